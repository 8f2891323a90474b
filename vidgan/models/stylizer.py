"""Recurrent CycleGAN-style generator: stylizes frame t from x_t, the previous output warped to t,
and the confidence of that warp.

Paper names (Zhu et al. 2017, CycleGAN): G maps content X -> style Y and is recurrent here;
F maps Y -> X and sees only images. Both are fully convolutional encoder / residual trunk /
decoder networks built from one :class:`StylizerConfig`, so a model file's JSON card is enough
to rebuild the architecture (loading never executes code).

Convention:
    inputs and outputs are (N, 3, H, W) RGB in [0, 1]; ``warped_previous`` is the previous
    output warped to frame t (zeros on the first frame or after a cut) and ``confidence`` is
    (N, 1, H, W) in [0, 1] (zeros likewise). H and W need not be multiples of anything: the
    network pads internally to its stride and crops back.

Normalisation (``norm``): instance normalisation (Ulyanov et al. 2016) after every convolution of
the encoder, trunk and decoder, as in Johnson et al.'s transfer network. On a fixed batch of four
photos it brings the VGG Gram style term from 8 to 0.7 in 120 Adam steps, where the same
network without it stalls near 4 (see docs/training.md): texture needs the contrast
normalisation. Its per-frame statistics could flicker; the recurrent input, the temporal term and
the stage's blend hold that down, and E_warp is measured per style. ``none`` (the first lite
styles) has no normalisation, and its residual branches start near zero instead (a learnable
scale initialised to 0.1).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

Preset = Literal["lite", "full"]
Padding = Literal["replicate", "zeros"]
Norm = Literal["none", "instance"]

_EPS = 1e-3  # keeps the input's logit finite on pure black and white


@dataclass(frozen=True)
class StylizerConfig:
    """Architecture of one generator; stored verbatim in model cards."""

    preset: Preset = "lite"
    width: int = 24  # channels after the stem; the trunk runs at 2x this
    blocks: int = 5  # residual blocks in the trunk
    separable: bool = True  # depthwise-separable convolutions (lite) or full 3x3 (full)
    recurrent: bool = True  # G takes 7 channels (x, warped previous, confidence); F takes 3
    upsample: Literal["nearest", "bilinear"] = "bilinear"  # decoder upsampling (nearest leaves 2/4 px blocks)
    head: Literal["full", "half"] = "full"  # resolution the decoder's last layer runs at (see RecurrentStylizer)
    padding: Padding = "replicate"  # zeros: no separate padding copy per conv (CPU)
    norm: Norm = "none"  # instance: normalisation after each encoder/trunk/decoder convolution

    @property
    def in_channels(self) -> int:
        return 7 if self.recurrent else 3

    @property
    def stride(self) -> int:
        return 4  # stem (2) x down (2); the decoder undoes both

    @classmethod
    def from_dict(cls, data: dict) -> StylizerConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown generator settings {sorted(unknown)}; known: {sorted(names)}")
        return cls(**data)


PRESETS: dict[str, StylizerConfig] = {
    "lite": StylizerConfig("lite", width=24, blocks=5, separable=True, head="half", padding="zeros",
                           norm="instance"),
    # full: dense 3x3 convolutions, wide enough for brush strokes; half head and zero padding keep
    # it at about 80 ms a 640x360 frame on two CPU cores (width 48 with a full head: 200 ms).
    "full": StylizerConfig("full", width=40, blocks=8, separable=False, head="half", padding="zeros",
                           norm="instance"),
}


def _conv(cin: int, cout: int, separable: bool, stride: int = 1, padding: Padding = "replicate") -> nn.Module:
    if separable:
        return nn.Sequential(
            nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, padding_mode=padding),
            nn.Conv2d(cin, cout, 1),
        )
    return nn.Conv2d(cin, cout, 3, stride, 1, padding_mode=padding)


def _norm(channels: int, norm: Norm) -> list[nn.Module]:
    """Instance normalisation with a learned scale and shift, or nothing (no module at all, so the
    layer indices, and the weight names, of ``none`` models stay those of the first styles)."""
    return [nn.InstanceNorm2d(channels, affine=True)] if norm == "instance" else []


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, separable: bool, padding: Padding = "replicate", norm: Norm = "none") -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(channels, channels, separable, padding=padding), *_norm(channels, norm), nn.LeakyReLU(0.2, inplace=True),
            _conv(channels, channels, separable, padding=padding), *_norm(channels, norm),
        )
        self.scale = nn.Parameter(torch.tensor(0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.scale * self.body(x)


class RecurrentStylizer(nn.Module):
    """Encoder (stride 4) -> residual trunk -> decoder (bilinear upsampling + conv, twice).

    Upsampling then convolving, rather than a transposed convolution or a pixel shuffle, keeps
    the output free of checkerboard and stripe artefacts (Odena et al. 2016) at the same cost;
    bilinear rather than nearest, because nearest-upsampled features print 2 and 4 px blocks into
    the mid-frequency bands that a style's statistics are judged on.
    """

    def __init__(self, config: StylizerConfig) -> None:
        super().__init__()
        self.config = config
        w, sep, pad, norm = config.width, config.separable, config.padding, config.norm
        self.stem = nn.Sequential(
            nn.Conv2d(config.in_channels, w, 3, 2, 1, padding_mode=pad), *_norm(w, norm), nn.LeakyReLU(0.2, inplace=True)
        )
        self.down = nn.Sequential(_conv(w, 2 * w, sep, stride=2, padding=pad), *_norm(2 * w, norm),
                                  nn.LeakyReLU(0.2, inplace=True))
        self.trunk = nn.Sequential(*[ResidualBlock(2 * w, sep, pad, norm) for _ in range(config.blocks)])
        self.up = nn.Sequential(_conv(2 * w, w, sep, padding=pad), *_norm(w, norm), nn.LeakyReLU(0.2, inplace=True))
        self.skip = nn.Conv2d(w, w, 1)  # stem features skip the trunk: keeps content edges
        # The head predicts a change of the input in logit space and starts at zero, so an untrained
        # generator is the identity and training only has to learn the style. "full": it runs at
        # full resolution on the upsampled features and the input frame (a path for the edges and
        # fine detail the stride-4 trunk blurs). "half" (lite): it runs at half resolution, its
        # 3-channel change is upsampled, and a 3x3 filter of the input frame adds the full-resolution
        # detail; no w-channel full-resolution tensor is ever made, which is most of the CPU cost.
        self._upsample = _upsample_mode(config.upsample)
        self.detail: nn.Conv2d | None
        if config.head == "full":
            self.head = nn.Conv2d(w + 3, 3, 3, 1, 1, padding_mode=pad)
            self.detail = None
        else:
            self.head = nn.Conv2d(w, 3, 3, 1, 1, padding_mode=pad)
            self.detail = _zero_conv(nn.Conv2d(3, 3, 3, 1, 1, padding_mode=pad))
        _zero_conv(self.head)

    def forward(
        self,
        x: torch.Tensor,
        warped_previous: torch.Tensor | None = None,
        confidence: torch.Tensor | None = None,
    ) -> torch.Tensor:
        height, width = x.shape[-2:]
        inputs = x * 2 - 1
        if self.config.recurrent:
            if warped_previous is None:
                warped_previous = torch.zeros_like(x)
                confidence = torch.zeros_like(x[:, :1])
            elif confidence is None:
                raise TypeError("a warped previous output needs its confidence")
            inputs = torch.cat((inputs, (warped_previous * 2 - 1) * confidence, confidence), dim=1)
        # Padded to the stride, and to two stride cells at least: normalisation needs more than one
        # value per channel in the trunk.
        pad_h, pad_w = (max(-side % self.config.stride, 2 * self.config.stride - side) for side in (height, width))
        if pad_h or pad_w:
            inputs = F.pad(inputs, (0, pad_w, 0, pad_h), mode="replicate")
        stem = self.stem(inputs)
        features = self.trunk(self.down(stem))
        features = self._upsample(features)
        features = self.up(features) + self.skip(stem)
        if self.detail is None:
            change = self.head(torch.cat((self._upsample(features), inputs[:, :3]), dim=1))
        else:
            change = self._upsample(self.head(features)) + self.detail(inputs[:, :3])
        change = change[..., :height, :width]
        return torch.sigmoid(torch.logit(x.clamp(_EPS, 1 - _EPS)) + change)


def _zero_conv(conv: nn.Conv2d) -> nn.Conv2d:
    assert conv.bias is not None  # built with the default bias=True
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


def _upsample_mode(mode: str) -> Callable[[torch.Tensor], torch.Tensor]:
    if mode == "nearest":
        return lambda t: F.interpolate(t, scale_factor=2, mode="nearest")
    return lambda t: F.interpolate(t, scale_factor=2, mode="bilinear", align_corners=False)


def build_generator(config: StylizerConfig | str) -> RecurrentStylizer:
    if isinstance(config, str):
        config = PRESETS[config]
    return RecurrentStylizer(config)


def count_macs(model: nn.Module, height: int, width: int) -> int:
    """Multiply-accumulates of one forward pass at H x W (convolutions only), for model cards."""
    total = 0

    def hook(module: nn.Conv2d, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        kernel = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
        total += output.numel() * kernel

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    channels = model.config.in_channels if isinstance(model, RecurrentStylizer) else 3
    with torch.no_grad():
        if isinstance(model, RecurrentStylizer):
            model(torch.zeros(1, 3, height, width))
        else:
            model(torch.zeros(1, channels, height, width))
    for handle in handles:
        handle.remove()
    return total
