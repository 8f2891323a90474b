"""The refinement network: learns what the classical ``dis`` interpolation gets wrong, not the flow itself.

DIS (both ways) stays the motion estimate; a compact U-Net at the flow's own scale reads what
``dis`` builds for time t (both frames, the flows from t, both frames warped by them, their
visibility maps, t) and predicts three corrections, as the refinement stages of Super SloMo
(Jiang et al. 2018), softmax splatting (Niklaus and Liu 2020) and RIFE's refine net do:

- residuals of the two flows from t (pixels at the network's scale, upsampled with the flows);
- a fusion mask: frame 0's blend weight times exp(mask), frame 1's divided by it;
- an RGB residual added to the blend.

The blend itself runs at full resolution with :func:`vidgan.models.interp.occlusion_blend`, the
one ``dis`` uses. The output heads start at zero, so an untrained network gives ``dis``'s frame
bit for bit (zero residuals, exp(0) = 1) and training can only add to it.

Convention: frames (N, 3, H, W) in [0, 1]; flows (dx, dy) in pixels, backward-warping as
:func:`vidgan.ops.warp`, channels t -> 0 then t -> 1.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from vidgan.errors import ModelFileError, VidganError
from vidgan.models.interp import (
    DisInterpolator,
    DisPair,
    DisWarp,
    Interpolator,
    check_time,
    flows_to_t,
    occlusion_blend,
    warp_to_t,
)

Preset = Literal["lite", "full"]

#: What the card's ``architecture`` says for these weights (the interpolation network from scratch
#: has none, or ``interpnet``).
ARCHITECTURE = "refine"

_INPUTS = 3 * 4 + 4 + 2 + 1  # I0, I1, both warped; both flows from t; both visibility maps; t
_OUTPUTS = 4 + 1 + 3  # flow residuals, fusion mask, RGB residual
_MASK_LIMIT = 8.0  # |mask| bound: weights within e^8 of each other, never inf

#: Short side (px) DIS and the network run at unless asked otherwise; the warps and the blend run
#: at the frames' own size. At 180 a 640x360 frame costs a quarter of the network's full-scale time
#: (20 fps on two cores needs that). On the dev triplets ``dis`` at 180 px scores 0.13 dB higher in
#: PSNR than at 360 and 0.003 lower in SSIM.
DEFAULT_SCALE = 180


@dataclass(frozen=True)
class RefineConfig:
    """Architecture of one refinement network; stored verbatim in its model card."""

    preset: Preset = "lite"
    widths: tuple[int, ...] = (12, 24, 32)  # channels at 1/2, 1/4, 1/8 of the network's input
    depth: int = 2  # 3x3 convolutions (residual) at the coarsest level
    full_width: int = 0  # channels of a last stage at the input's own scale (0: heads at 1/2, upsampled)
    flow_norm: float = 16.0  # flows are read and residuals written in units of this many pixels

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RefineConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown refinement network settings {sorted(unknown)}; known: {sorted(names)}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)

    @property
    def multiple(self) -> int:
        """The network's input is padded to a multiple of this."""
        return 2 ** len(self.widths)


PRESETS: dict[str, RefineConfig] = {
    # lite: ~0.8 GMACs at 640x360, heads at half the flow's scale
    "lite": RefineConfig("lite"),
    "full": RefineConfig("full", widths=(32, 48, 64), depth=4, full_width=16),
}


def _act() -> nn.Module:
    return nn.LeakyReLU(0.2)


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), _act())


@dataclass(frozen=True)
class Corrections:
    """What the network predicts, at the scale of its input."""

    flows: torch.Tensor  # (N, 4, h, w) pixel residuals of the flows t -> 0 and t -> 1
    mask: torch.Tensor  # (N, 1, h, w) log-weight shift toward frame 0
    residual: torch.Tensor  # (N, 3, h, w) added to the blend


class RefineNet(nn.Module):
    """A small U-Net: strided encoder, residual body, decoder with skips, one zero-initialised head."""

    def __init__(self, config: RefineConfig) -> None:
        super().__init__()
        if not config.widths:
            raise ValueError("a refinement network needs at least one level")
        self.config = config
        widths = config.widths
        self.down = nn.ModuleList(_conv(_INPUTS if i == 0 else widths[i - 1], w, stride=2) for i, w in enumerate(widths))
        self.body = nn.Sequential(*[m for _ in range(config.depth) for m in (nn.Conv2d(widths[-1], widths[-1], 3, 1, 1),
                                                                            _act())])
        self.up = nn.ModuleList(_conv(widths[i + 1] + widths[i], widths[i]) for i in reversed(range(len(widths) - 1)))
        self.full: nn.ModuleList | None = None
        head_in = widths[0]
        if config.full_width:
            self.full = nn.ModuleList([_conv(_INPUTS, config.full_width),
                                       _conv(widths[0] + config.full_width, config.full_width)])
            head_in = config.full_width
        self.head = nn.Conv2d(head_in, _OUTPUTS, 3, 1, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)  # type: ignore[arg-type]

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, 8, H, W) raw head output for (N, 17, H, W) inputs, H and W multiples of ``config.multiple``."""
        skips = []
        x = inputs
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        x = x + self.body(x)
        for layer, skip in zip(self.up, reversed(skips[:-1])):
            x = layer(torch.cat((F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False), skip),
                                dim=1))
        if self.full is not None:
            up = F.interpolate(x, size=inputs.shape[-2:], mode="bilinear", align_corners=False)
            x = self.full[1](torch.cat((up, self.full[0](inputs)), dim=1))
        out = self.head(x)
        if out.shape[-2:] != inputs.shape[-2:]:
            out = F.interpolate(out, size=inputs.shape[-2:], mode="bilinear", align_corners=False)
        return out

    def corrections(self, pair: DisPair, warp: DisWarp, t: float) -> Corrections:
        """The corrections for ``dis``'s frame at t, read from its pair and warps (any size: padded here)."""
        n, _, height, width = pair.frame0.shape
        norm = self.config.flow_norm
        t_map = pair.frame0.new_full((n, 1, height, width), float(t))
        inputs = torch.cat((pair.frame0, pair.frame1, warp.warped0, warp.warped1, warp.flow_t0 / norm,
                            warp.flow_t1 / norm, warp.seen0, warp.seen1, t_map), dim=1)
        multiple = self.config.multiple
        pad_h, pad_w = -height % multiple, -width % multiple
        if pad_h or pad_w:
            inputs = F.pad(inputs, (0, pad_w, 0, pad_h), mode="replicate")
        out = self(inputs)[..., :height, :width]
        return Corrections(out[:, :4] * norm, out[:, 4:5].clamp(-_MASK_LIMIT, _MASK_LIMIT), out[:, 5:8])


def _upsampled(corrections: Corrections, size: tuple[int, int]) -> Corrections:
    """Corrections from the network's scale to the frames' (flow vectors scaled per axis)."""
    small = corrections.flows.shape[-2:]
    if tuple(small) == tuple(size):
        return corrections

    def up(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)

    factors = torch.tensor([size[1] / small[1], size[0] / small[0]] * 2, device=corrections.flows.device)
    return Corrections(up(corrections.flows) * factors.view(1, 4, 1, 1), up(corrections.mask),
                       up(corrections.residual))


@dataclass(frozen=True)
class Refined:
    """The corrected frame and the corrected flows from t that made it (at the frames' size)."""

    frame: torch.Tensor
    flows: torch.Tensor  # (N, 4, H, W): t -> 0, then t -> 1


def refine(net: RefineNet, pair: DisPair, t: float) -> Refined:
    """The frame at t: ``dis``'s motion, corrected by ``net`` at the flow's scale, blended at full size.

    The network reads ``pair.small`` when DIS ran on a shrunk copy (else the pair itself); its
    corrections are upsampled and applied to the full-resolution flows, warps and blend.
    """
    check_time(t)
    flow_t0, flow_t1 = flows_to_t(pair, t)
    seen_by_net = pair.small or pair
    if seen_by_net is pair:
        net_warp = warp_to_t(pair, flow_t0, flow_t1)
    else:
        net_warp = warp_to_t(seen_by_net, *flows_to_t(seen_by_net, t))
    height, width = pair.frame0.shape[-2:]
    fix = _upsampled(net.corrections(seen_by_net, net_warp, t), (int(height), int(width)))
    flows = torch.cat((flow_t0, flow_t1), dim=1) + fix.flows
    warp = warp_to_t(pair, flows[:, :2].contiguous(), flows[:, 2:].contiguous())
    return Refined(occlusion_blend(pair, warp, t, mask=fix.mask, residual=fix.residual), flows)


def refined_frame(net: RefineNet, pair: DisPair, t: float) -> torch.Tensor:
    """:func:`refine`'s frame alone (inference)."""
    return refine(net, pair, t).frame


def build_refine(config: RefineConfig | str) -> RefineNet:
    return RefineNet(PRESETS[config] if isinstance(config, str) else config)


@dataclass(frozen=True)
class LoadedRefine:
    """A trained network and the DIS preset it was trained on (both from the card)."""

    net: RefineNet
    dis_preset: str


def load_refine(weights: Path, device: torch.device | str = "cpu") -> LoadedRefine:
    """Rebuild the network from ``NAME.json`` and load ``NAME.safetensors`` safely: pickles, cards of
    another architecture, weights of another shape and damaged files are one-line ModelFileErrors."""
    from vidgan.models.cards import card_path, read_card
    from vidgan.models.flow import DIS_PRESETS
    from vidgan.models.zoo import load_safetensors_state, refuse_pickle

    weights = Path(weights)
    refuse_pickle(weights)
    card = read_card(card_path(weights), kind="interpolator")
    architecture = card.get("architecture", "interpnet")
    if architecture != ARCHITECTURE or "refine" not in card:
        raise ModelFileError(f"{weights.name} holds a {architecture} interpolation network, not a refine network")
    try:
        config = RefineConfig.from_dict(card["refine"])
        dis_preset = str(card.get("dis", {}).get("preset", "medium"))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelFileError(f"model card of {weights.name} is unreadable: {exc}") from None
    if dis_preset not in DIS_PRESETS:
        raise ModelFileError(f"model card of {weights.name} names an unknown DIS preset {dis_preset!r}")
    state = load_safetensors_state(weights, device, label=f"weights {weights}")
    try:
        net = RefineNet(config)
        net.load_state_dict(state, strict=True)
    except (RuntimeError, ValueError) as exc:
        raise ModelFileError(f"weights {weights} do not fit the refine network in their card: "
                             f"{str(exc).strip().splitlines()[0]}") from None
    return LoadedRefine(net.to(device).eval(), dis_preset)


def save_refine(folder: Path, stem: str, net: RefineNet, *, dis_preset: str, name: str,
                training: dict[str, Any] | None = None) -> Path:
    """Write ``folder/stem.safetensors`` and the card :func:`load_refine` reads; returns the weights' path."""
    from vidgan.models.cards import save_model

    card = {"kind": "interpolator", "architecture": ARCHITECTURE, "name": name, "preset": net.config.preset,
            "refine": dataclasses.asdict(net.config), "dis": {"preset": dis_preset}, "training": training or {}}
    return save_model(folder, stem, net.state_dict(), card)


def refine_weights(preset: str) -> Path | None:
    """Where trained ``interp_refine_<preset>`` weights are: the user's folder first, then the built-in one."""
    from vidgan.models.interp import learned_weights

    return learned_weights(f"refine_{preset}")


class RefineInterpolator(Interpolator):
    """``dis`` plus the trained refinement network, behind the interpolator interface.

    Motion is estimated at ``max_short_side`` (the filter's ``scale``) as for ``dis``; the network
    runs at that scale and the blend at the frames' own.
    """

    def __init__(self, *, preset: str = "lite", weights: Path | None = None,
                 max_short_side: int = DEFAULT_SCALE) -> None:
        if weights is None:
            weights = refine_weights(preset)
            if weights is None:
                name = "refine" if preset == "lite" else f"refine-{preset}"
                raise VidganError(
                    f"no trained weights for interpolation model {name!r} are installed; train them with "
                    f"'vidgan train interp --model refine --preset {preset}' (and copy interp_refine_{preset}"
                    ".safetensors + .json to the user folder), or use model=dis"
                )
        loaded = load_refine(weights)
        self.weights = weights
        self.net = loaded.net
        self.dis = DisInterpolator(preset=loaded.dis_preset, max_short_side=max_short_side)

    def prepare(self, frame0: torch.Tensor, frame1: torch.Tensor) -> DisPair:
        if next(self.net.parameters()).device != frame0.device:
            self.net = self.net.to(frame0.device)
        return self.dis.prepare(frame0, frame1, keep_small=True)

    def synthesize(self, pair: object, t: float) -> torch.Tensor:
        assert isinstance(pair, DisPair)
        with torch.no_grad():
            return refined_frame(self.net, pair, t)


__all__ = ["ARCHITECTURE", "DEFAULT_SCALE", "PRESETS", "Corrections", "LoadedRefine", "RefineConfig",
           "RefineInterpolator", "RefineNet", "Refined", "build_refine", "load_refine", "refine", "refine_weights",
           "refined_frame", "save_refine"]
