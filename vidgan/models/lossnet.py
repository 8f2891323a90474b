"""The frozen perceptual network that style and content terms (and the perceptual metrics) read.

It is the "normalised" VGG19 of Gatys et al. (2016), layers conv1_1 to conv3_1, as a safetensors
file of six convolutions. vidgan never ships it: training and evaluation take its path from an
option or ``$VIDGAN_LOSS_NET``, and every model trained with it names it in its card.

Convention:
    input (N, 3, H, W) RGB float in [0, 1]; the first, fixed 1x1 convolution turns it into Caffe's
    BGR x 255 minus the ImageNet mean. Features are returned at relu1_1, relu1_2, relu2_1, relu2_2
    and relu3_1 (receptive field 24 px at relu3_1: run it on an image pyramid for larger strokes).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vidgan.errors import ModelFileError

LOSS_NET_ENV = "VIDGAN_LOSS_NET"

#: Tensor key prefix -> (out channels, in channels, kernel), in network order.
_CONVS: dict[str, tuple[int, int, int]] = {
    "0": (3, 3, 1), "2": (64, 3, 3), "5": (64, 64, 3), "9": (128, 64, 3), "12": (128, 128, 3), "16": (256, 128, 3),
}
LAYERS = ("relu1_1", "relu1_2", "relu2_1", "relu2_2", "relu3_1")


def loss_net_path(path: str | os.PathLike[str] | None = None) -> Path:
    """``path``, else ``$VIDGAN_LOSS_NET``; a missing file is a one-line :class:`ModelFileError`."""
    chosen = path or os.environ.get(LOSS_NET_ENV)
    if not chosen:
        raise ModelFileError(f"no loss network given: pass --loss-net FILE or set ${LOSS_NET_ENV} "
                             "(vgg19_norm_relu3_1.safetensors)")
    chosen = Path(chosen)
    if not chosen.is_file():
        raise ModelFileError(f"loss network {chosen} does not exist")
    return chosen


class VGGFeatures(nn.Module):
    """relu1_1 .. relu3_1 of the normalised VGG19; frozen, in eval mode, never trained."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleDict({key: nn.Conv2d(cin, cout, k) for key, (cout, cin, k) in _CONVS.items()})
        self.requires_grad_(False)
        self.eval()

    def _conv(self, key: str, x: torch.Tensor) -> torch.Tensor:
        conv = self.convs[key]
        assert isinstance(conv, nn.Conv2d)
        if conv.kernel_size[0] == 3:
            x = F.pad(x, (1, 1, 1, 1), mode="reflect")
        return F.conv2d(x, conv.weight, conv.bias)

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        """The five feature maps of ``image`` (see the module's convention)."""
        x = self._conv("0", image)
        relu1_1 = F.relu(self._conv("2", x))
        relu1_2 = F.relu(self._conv("5", relu1_1))
        x = F.max_pool2d(relu1_2, 2, ceil_mode=True)
        relu2_1 = F.relu(self._conv("9", x))
        relu2_2 = F.relu(self._conv("12", relu2_1))
        x = F.max_pool2d(relu2_2, 2, ceil_mode=True)
        relu3_1 = F.relu(self._conv("16", x))
        return [relu1_1, relu1_2, relu2_1, relu2_2, relu3_1]


def load_loss_net(path: str | os.PathLike[str] | None = None, device: str | torch.device = "cpu") -> VGGFeatures:
    """The loss network from ``path`` (or ``$VIDGAN_LOSS_NET``), checked tensor by tensor.

    A file that is not safetensors, or whose tensors are not exactly the six convolutions above,
    is a one-line :class:`ModelFileError`; nothing is unpickled.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    file = loss_net_path(path)
    try:
        tensors = load_file(str(file))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(f"loss network {file} is not a readable safetensors file: {exc}") from None
    net = VGGFeatures()
    wanted: dict[str, tuple[int, ...]] = {f"{key}.weight": (cout, cin, k, k) for key, (cout, cin, k) in _CONVS.items()}
    wanted |= {f"{key}.bias": (cout,) for key, (cout, _cin, _k) in _CONVS.items()}
    got = {name: tuple(t.shape) for name, t in tensors.items()}
    if got != wanted:
        missing = sorted(set(wanted) - set(got))
        extra = sorted(set(got) - set(wanted))
        wrong = sorted(k for k in set(wanted) & set(got) if wanted[k] != got[k])
        detail = "; ".join(part for part in (
            f"missing {', '.join(missing)}" if missing else "",
            f"unexpected {', '.join(extra[:5])}{' ...' if len(extra) > 5 else ''}" if extra else "",
            f"wrong shape {', '.join(f'{k} {got[k]} (want {wanted[k]})' for k in wrong)}" if wrong else "",
        ) if part)
        raise ModelFileError(f"loss network {file} does not hold VGG19 conv1_1..conv3_1: {detail}")
    net.convs.load_state_dict({name: tensor.float() for name, tensor in tensors.items()})
    return net.to(device)
