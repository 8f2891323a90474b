"""Learned interpolation network: coarse-to-fine flows to time t, a fusion mask and a residual.

The design follows the published line of single-pass flow interpolators (RIFE's IFNet, IFRNet):
instead of estimating the flow between the two frames and deriving the flow to t from it, every
level predicts the flows *from t* to both frames directly, so occlusions at t are handled by the
network rather than by a rule. Levels run coarse to fine (the input shrunk 4x, 2x, 1x); each
sees both frames, both frames warped by the flows so far, those flows, the mask and t, and adds a
correction. The output blends the two warped frames by the mask and adds a small residual.

All heads start at zero, so an untrained network outputs the plain blend ``(1 - t) I0 + t I1``
(mask logit 0 weighs them (1 - t) and t) and training only has to learn the motion.

Convention: frames (N, 3, H, W) in [0, 1]; flows in pixels of the frame they are applied to,
channels (dx, dy) for t -> 0 then t -> 1, backward-warping as :func:`vidgan.ops.warp`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from vidgan.ops import reference

Preset = Literal["lite", "full"]


@dataclass(frozen=True)
class InterpNetConfig:
    """Architecture of one interpolation network; stored verbatim in model cards."""

    preset: Preset = "lite"
    widths: tuple[int, ...] = (48, 32, 24)  # channels of each level, coarse to fine
    scales: tuple[int, ...] = (4, 2, 1)  # how much each level shrinks its input
    depth: int = 3  # 3x3 convolutions per level at 1/4 of its input
    refine: int = 16  # channels of the full-resolution residual (0: none)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InterpNetConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown interpolation network settings {sorted(unknown)}; known: {sorted(names)}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)

    @property
    def multiple(self) -> int:
        """Frame sides are padded to a multiple of this (each level works at 1/4 of its input)."""
        return 4 * max(self.scales)


PRESETS: dict[str, InterpNetConfig] = {
    # lite: the finest level at half resolution and no residual: most of the cost at 640x360 was
    # full-resolution convolutions (the residual alone ~1.2 GMACs)
    "lite": InterpNetConfig("lite", scales=(8, 4, 2), refine=0),
    "full": InterpNetConfig("full", widths=(128, 96, 64), depth=6, refine=32),
}

_LEVEL_INPUTS = 3 * 4 + 4 + 1 + 1  # I0, I1, both warped; flows; mask; t


def _act() -> nn.Module:
    return nn.LeakyReLU(0.2, inplace=True)


def _zeroed(conv: nn.Conv2d) -> nn.Conv2d:
    """``conv`` with zero weights and bias: a head that starts out predicting nothing."""
    nn.init.zeros_(conv.weight)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)
    return conv


class FlowLevel(nn.Module):
    """One level: stride-4 encoder, a few convolutions, a zero-initialised head upsampled back."""

    def __init__(self, width: int, depth: int) -> None:
        super().__init__()
        self.encode = nn.Sequential(nn.Conv2d(_LEVEL_INPUTS, width // 2, 3, 2, 1), _act(),
                                    nn.Conv2d(width // 2, width, 3, 2, 1), _act())
        self.body = nn.Sequential(*[m for _ in range(depth) for m in (nn.Conv2d(width, width, 3, 1, 1), _act())])
        self.head = _zeroed(nn.Conv2d(width, 5, 3, 1, 1))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        features = self.encode(inputs)
        features = features + self.body(features)
        return F.interpolate(self.head(features), size=inputs.shape[-2:], mode="bilinear", align_corners=False) * 4


class InterpNet(nn.Module):
    def __init__(self, config: InterpNetConfig) -> None:
        super().__init__()
        if len(config.widths) != len(config.scales):
            raise ValueError("widths and scales need one entry per level")
        self.config = config
        self.levels = nn.ModuleList(FlowLevel(width, config.depth) for width in config.widths)
        self.refine: nn.Sequential | None = None
        if config.refine:
            self.refine = nn.Sequential(nn.Conv2d(3 * 5 + 2, config.refine, 3, 1, 1), _act(),
                                        nn.Conv2d(config.refine, config.refine, 3, 1, 1), _act(),
                                        _zeroed(nn.Conv2d(config.refine, 3, 3, 1, 1)))

    def estimate(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Flows (N, 4, H, W) from t to frame 0 and to frame 1, and the fusion mask's logit (N, 1, H, W).

        ``t`` is (N,) in (0, 1). H and W must be multiples of :attr:`InterpNetConfig.multiple`.
        """
        n, _, height, width = frame0.shape
        flows = frame0.new_zeros(n, 4, height, width)
        mask = frame0.new_zeros(n, 1, height, width)
        t_map = t.view(n, 1, 1, 1).to(frame0.dtype).expand(n, 1, height, width)
        for level, scale in zip(self.levels, self.config.scales):
            warped0, _ = reference.warp(frame0, flows[:, :2], border="edge")
            warped1, _ = reference.warp(frame1, flows[:, 2:], border="edge")
            inputs = torch.cat((frame0, frame1, warped0, warped1, flows / scale, mask, t_map), dim=1)
            if scale > 1:
                inputs = F.interpolate(inputs, scale_factor=1 / scale, mode="bilinear", align_corners=False)
            delta = level(inputs)
            if scale > 1:
                delta = F.interpolate(delta, size=(height, width), mode="bilinear", align_corners=False)
                delta = torch.cat((delta[:, :4] * scale, delta[:, 4:]), dim=1)
            flows = flows + delta[:, :4]
            mask = mask + delta[:, 4:]
        return flows, mask

    def compose(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor, flows: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        """The frame at t from both frames warped by ``flows`` and mixed by ``mask`` (+ the residual)."""
        n = frame0.shape[0]
        t = t.view(n, 1, 1, 1).to(frame0.dtype)
        warped0, _ = reference.warp(frame0, flows[:, :2], border="edge")
        warped1, _ = reference.warp(frame1, flows[:, 2:], border="edge")
        # logit 0 weighs the frames (1 - t) and t, the plain blend
        weight0 = torch.sigmoid(mask + torch.logit((1 - t).clamp(1e-3, 1 - 1e-3)))
        out = weight0 * warped0 + (1 - weight0) * warped1
        if self.refine is not None:
            t_map = t.expand_as(mask)
            out = out + self.refine(torch.cat((frame0, frame1, warped0, warped1, out, weight0, t_map), dim=1))
        return out

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """The frame at ``t`` (a float or (N,)); any frame size (padded internally)."""
        n, _, height, width = frame0.shape
        if not torch.is_tensor(t):
            t = frame0.new_full((n,), float(t))
        multiple = self.config.multiple
        pad_h, pad_w = -height % multiple, -width % multiple
        if pad_h or pad_w:
            frame0 = F.pad(frame0, (0, pad_w, 0, pad_h), mode="replicate")
            frame1 = F.pad(frame1, (0, pad_w, 0, pad_h), mode="replicate")
        flows, mask = self.estimate(frame0, frame1, t)
        return self.compose(frame0, frame1, t, flows, mask)[..., :height, :width]


def build_interpnet(config: InterpNetConfig | str) -> InterpNet:
    return InterpNet(PRESETS[config] if isinstance(config, str) else config)


def load_interpnet(weights: Path, device: torch.device | str = "cpu") -> InterpNet:
    """Rebuild a trained network from ``NAME.json`` and load ``NAME.safetensors`` safely."""
    from vidgan.models.cards import card_path, read_card
    from vidgan.models.zoo import ModelFileError, load_safetensors_state, refuse_pickle

    refuse_pickle(weights)
    card = read_card(card_path(weights), kind="interpolator", require=("network",))
    try:
        config = InterpNetConfig.from_dict(card["network"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"model card of {weights.name} is unreadable: {exc}") from None
    state = load_safetensors_state(weights, device, label=f"weights {weights}")
    net = InterpNet(config)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelFileError(f"weights {weights} do not fit the network in their card: "
                             f"{str(exc).strip().splitlines()[0]}") from None
    return net.to(device).eval()
