"""Frame interpolation models: given two frames, synthesise the frames at times t in (0, 1).

Models register by name (``dis`` here: classical, no weights; the learned flow networks add
themselves the same way) and work in two steps, so that a factor-4 interpolation estimates the
motion of a pair once: :meth:`Interpolator.prepare` takes the pair and returns its state, and
:meth:`Interpolator.synthesize` makes the frame at one t from it.

Convention: frames are (1, 3, H, W) float RGB in [0, 1] on one device; results likewise.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch

from vidgan import ops
from vidgan.errors import UnknownInterpolatorError, VidganError
from vidgan.io.images import short_side_size
from vidgan.models.flow import DIS_MIN_SHORT_SIDE, DIS_PRESETS, create_dis, dense_flow
from vidgan.models.motion import _luma_u8, _upsample_flows, area_downscale
from vidgan.registry import Registry

__all__ = ["DisInterpolator", "DisPair", "DisWarp", "Interpolator", "LearnedInterpolator", "UnknownInterpolatorError",
           "check_time", "flows_to_t", "get_interpolator", "interpolator_names", "learned_weights",
           "occlusion_blend", "register_interpolator", "warp_to_t"]


class Interpolator(abc.ABC):
    """Synthesises in-between frames of one pair at a time."""

    name: ClassVar[str] = ""

    @abc.abstractmethod
    def prepare(self, frame0: torch.Tensor, frame1: torch.Tensor) -> object:
        """Whatever :meth:`synthesize` needs for this pair (flows, masks), computed once."""

    @abc.abstractmethod
    def synthesize(self, pair: object, t: float) -> torch.Tensor:
        """The frame at time ``t`` in (0, 1) between the prepared pair's frames."""


def _name_model(name: str, factory: Callable[..., Interpolator]) -> None:
    if isinstance(factory, type) and issubclass(factory, Interpolator):
        factory.name = name


#: Interpolation models by name (a class, or a factory such as a preset of the learned model);
#: installed packages add theirs through the ``vidgan.interpolators`` entry points.
INTERPOLATORS: Registry[Callable[..., Interpolator]] = Registry(
    "interpolation model", entry_point_group="vidgan.interpolators", error=UnknownInterpolatorError,
    check=_name_model,
)

#: ``@register_interpolator("name")`` on an Interpolator subclass.
register_interpolator = INTERPOLATORS.register


def interpolator_names() -> list[str]:
    return INTERPOLATORS.names()


def get_interpolator(name: str, **options: object) -> Interpolator:
    """A new model ``name`` (or trained weights: a ``.safetensors`` path) built with ``options``."""
    if name.endswith(".safetensors"):
        path = Path(name)
        if not path.is_file():
            raise VidganError(f"interpolation weights {path} do not exist")
        return _from_weights(path, options)
    return INTERPOLATORS.get(name)(**options)


def _learned_from(path: Path, options: dict[str, object]) -> Interpolator:
    return LearnedInterpolator(weights=path, **options)  # type: ignore[arg-type]


def _refine_from(path: Path, options: dict[str, object]) -> Interpolator:
    from vidgan.models.refine import RefineInterpolator

    return RefineInterpolator(weights=path, **options)  # type: ignore[arg-type]


#: What runs a weights file, by its card's ``architecture`` (cards without one: the network from scratch).
WEIGHT_ARCHITECTURES: dict[str, Callable[[Path, dict[str, object]], Interpolator]] = {
    "interpnet": _learned_from, "refine": _refine_from,
}


def _from_weights(path: Path, options: dict[str, object]) -> Interpolator:
    """The model a weights file holds, told apart by its card (pickles are refused before anything is read)."""
    from vidgan.models.cards import card_path, read_card
    from vidgan.models.zoo import refuse_pickle

    refuse_pickle(path)
    architecture = read_card(card_path(path), kind="interpolator").get("architecture", "interpnet")
    loader = WEIGHT_ARCHITECTURES.get(str(architecture))
    if loader is None:
        raise VidganError(f"{path.name} holds an interpolation network of unknown architecture {architecture!r}; "
                          f"known: {', '.join(WEIGHT_ARCHITECTURES)}")
    return loader(path, options)


@dataclass(frozen=True)
class DisPair:
    """What DIS measured for one pair (or a batch of pairs): the state :meth:`DisInterpolator.prepare`
    returns, shared by every model that builds on the classical motion (:mod:`vidgan.models.refine`)."""

    frame0: torch.Tensor
    frame1: torch.Tensor
    flow01: torch.Tensor  # (N, 2, H, W): frame0(x) -> frame1(x + flow01)
    flow10: torch.Tensor
    visible0: torch.Tensor  # (N, 1, H, W): confidence that frame0's pixel is seen in frame1
    visible1: torch.Tensor
    #: The same pair at the scale DIS ran at, when that is smaller than the frames (asked for with
    #: ``keep_small``): what a network running at the flow's scale reads.
    small: DisPair | None = None

    @staticmethod
    def cat(pairs: Sequence[DisPair]) -> DisPair:
        """One batch of same-sized pairs (training); the small copies are left out."""
        def joined(name: str) -> torch.Tensor:
            return torch.cat([getattr(p, name) for p in pairs])

        return DisPair(joined("frame0"), joined("frame1"), joined("flow01"), joined("flow10"), joined("visible0"),
                       joined("visible1"))

    def to(self, device: torch.device | str) -> DisPair:
        """The pair on ``device`` (the small copy too)."""
        return DisPair(self.frame0.to(device), self.frame1.to(device), self.flow01.to(device), self.flow10.to(device),
                       self.visible0.to(device), self.visible1.to(device),
                       None if self.small is None else self.small.to(device))


#: The old private name of :class:`DisPair`.
_DisPair = DisPair


@dataclass(frozen=True)
class DisWarp:
    """Both frames and their visibility warped to time t by the flows from t."""

    flow_t0: torch.Tensor  # (N, 2, H, W): from time t back to frame 0
    flow_t1: torch.Tensor
    warped0: torch.Tensor
    warped1: torch.Tensor
    seen0: torch.Tensor  # frame 0's visibility in frame 1, at t
    seen1: torch.Tensor


def flows_to_t(pair: DisPair, t: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Flows from time t back to each frame, by the linear approximation of Jiang et al. (2018).

    Splatting the flows to t instead (ops.splat_flow) scored 0.2 dB lower on the dev triplets.
    """
    flow_t0 = -(1 - t) * t * pair.flow01 + t * t * pair.flow10
    flow_t1 = (1 - t) * (1 - t) * pair.flow01 - t * (1 - t) * pair.flow10
    return flow_t0, flow_t1


def warp_to_t(pair: DisPair, flow_t0: torch.Tensor, flow_t1: torch.Tensor) -> DisWarp:
    """Both frames and visibility maps backward-warped by the flows from t (edge border)."""
    warped0, _ = ops.warp(pair.frame0, flow_t0, border="edge")
    warped1, _ = ops.warp(pair.frame1, flow_t1, border="edge")
    seen0, _ = ops.warp(pair.visible0, flow_t0, border="edge")
    seen1, _ = ops.warp(pair.visible1, flow_t1, border="edge")
    return DisWarp(flow_t0, flow_t1, warped0, warped1, seen0, seen1)


def occlusion_blend(pair: DisPair, warp: DisWarp, t: float, *, mask: torch.Tensor | None = None,
                    residual: torch.Tensor | None = None) -> torch.Tensor:
    """The frame at t: the warped frames mixed by the occlusion-aware weights of ``dis``.

    ``mask`` (N, 1, H, W) moves the mix in log space (frame 0's weight times exp(mask), frame 1's
    divided by it) and ``residual`` (N, 3, H, W) is added to the mix; zeros of both (and no
    arguments) give ``dis``'s frame bit for bit: x * exp(0) and x + 0 are exact.
    """
    # Where frame 0's sample is hidden in frame 1, frame 1's sample there is something else:
    # frame 0 alone is right. So each frame's weight follows the *other* frame's visibility.
    weight0 = (1 - t) * (warp.seen1 + 1e-3)
    weight1 = t * (warp.seen0 + 1e-3)
    if mask is not None:
        weight0 = weight0 * torch.exp(mask)
        weight1 = weight1 * torch.exp(-mask)
    total = weight0 + weight1
    blended = (weight0 * warp.warped0 + weight1 * warp.warped1) / total.clamp_min(1e-6)
    if residual is not None:
        blended = blended + residual
    fallback = (1 - t) * pair.frame0 + t * pair.frame1
    return torch.where(total > 1e-6, blended, fallback).clamp_(0.0, 1.0)


def check_time(t: float) -> None:
    if not 0.0 < t < 1.0:
        raise ValueError(f"interpolate: t must be in (0, 1); got {t}")


@register_interpolator("dis")
class DisInterpolator(Interpolator):
    """Classical interpolation: OpenCV DIS flow both ways, flows to time t, and an occlusion-aware
    blend. No weights, so it always works; the baseline the learned models have to beat.

    For time t, the flows from t back to each frame come from the two flows by the linear
    approximation of Jiang et al. (2018). Both frames are warped to t and mixed with weights
    (1 - t) and t; where one frame's sample is hidden in the other frame (the forward-backward
    check), the other frame's sample is of something else, so its weight drops and content that
    appears or disappears comes from the one frame that shows it. The steps are the module's
    functions (:func:`flows_to_t`, :func:`warp_to_t`, :func:`occlusion_blend`), so models that
    refine this motion share them rather than copy them.
    """

    def __init__(self, *, preset: str = "medium", max_short_side: int = 360) -> None:
        if preset not in DIS_PRESETS:
            raise VidganError(f"interpolation model 'dis': preset {preset!r} is not one of {', '.join(DIS_PRESETS)}")
        if max_short_side < DIS_MIN_SHORT_SIDE:
            raise VidganError(f"interpolation model 'dis': the flow scale must be >= {DIS_MIN_SHORT_SIDE} px")
        self.preset = preset
        self.max_short_side = max_short_side
        self._dis = create_dis(preset)

    def working_size(self, height: int, width: int) -> tuple[int, int]:
        """(h, w) DIS runs at for frames of this size: the short side at most ``max_short_side``."""
        small_width, small_height = short_side_size(width, height, self.max_short_side)
        return small_height, small_width

    def prepare(self, frame0: torch.Tensor, frame1: torch.Tensor, *, keep_small: bool = False) -> DisPair:
        """Both flows and visibility maps at the working scale, brought up to the frames' size.

        The forward-backward check runs at DIS's own scale, where the flows are measured, and its
        maps are upsampled with the flows: at full size it would only test the interpolation
        between flow samples, at a cost of 8 ms for 640x360 frames from a 180 px flow.
        """
        frame0, frame1 = frame0.float().contiguous(), frame1.float().contiguous()
        height, width = frame0.shape[-2:]
        size = self.working_size(int(height), int(width))
        if min(size) < DIS_MIN_SHORT_SIDE:
            zero = torch.zeros(1, 2, height, width, device=frame0.device)
            return _pair(frame0, frame1, zero, zero.clone())
        shrunk = size != (height, width)
        small0, small1 = (area_downscale(f, size) for f in (frame0, frame1)) if shrunk else (frame0, frame1)
        # small0(x) ≈ small1(x + flow01), and the other way round
        gray0, gray1 = _luma_u8(small0, size), _luma_u8(small1, size)
        flows = dense_flow(self._dis, gray0, gray1), dense_flow(self._dis, gray1, gray0)
        small_flows = _upsample_flows(flows, size, frame0.device)
        small = _pair(small0, small1, small_flows[0:1], small_flows[1:2])
        if not shrunk:
            return small
        full_flows = _upsample_flows(flows, (int(height), int(width)), frame0.device)
        visible = torch.nn.functional.interpolate(torch.cat((small.visible0, small.visible1), dim=1),
                                                  size=(height, width), mode="bilinear", align_corners=False)
        return DisPair(frame0, frame1, full_flows[0:1], full_flows[1:2], visible[:, 0:1], visible[:, 1:2],
                       small if keep_small else None)

    def synthesize(self, pair: object, t: float) -> torch.Tensor:
        assert isinstance(pair, DisPair)
        check_time(t)
        return occlusion_blend(pair, warp_to_t(pair, *flows_to_t(pair, t)), t)


def _pair(frame0: torch.Tensor, frame1: torch.Tensor, flow01: torch.Tensor, flow10: torch.Tensor) -> DisPair:
    # consistency(f, g) asks whether f's pixels come back through g: the visibility of the
    # frame f starts from in the other frame.
    return DisPair(frame0, frame1, flow01, flow10, ops.consistency(flow01, flow10), ops.consistency(flow10, flow01))


def learned_weights(preset: str) -> Path | None:
    """Where trained ``interp_<preset>`` weights are: the user's folder first, then the built-in one."""
    from vidgan.models.zoo import builtin_dir, user_dir

    for folder in (user_dir().parent / "interp", builtin_dir()):
        path = folder / f"interp_{preset}.safetensors"
        if path.is_file():
            return path
    return None


@dataclass(frozen=True)
class _NetPair:
    frame0: torch.Tensor
    frame1: torch.Tensor


class LearnedInterpolator(Interpolator):
    """The trained interpolation network (:mod:`vidgan.models.interpnet`) behind the same interface.

    Frames whose short side exceeds ``max_short_side`` have their motion estimated on a shrunk
    copy (bounded memory and time on 4K); the flows and mask are upsampled and the full-resolution
    frames are warped and blended.
    """

    def __init__(self, *, preset: str | None = None, weights: Path | None = None, max_short_side: int = 720) -> None:
        from vidgan.models.interpnet import load_interpnet

        if weights is None:
            weights = learned_weights(str(preset))
            if weights is None:
                raise VidganError(
                    f"no trained weights for interpolation model {preset!r} are installed; train them with "
                    f"'vidgan train interp' (and copy interp_{preset}.safetensors + .json to the user folder), "
                    "or use model=dis"
                )
        self.weights = weights
        self.net = load_interpnet(weights)
        self.max_short_side = max_short_side

    def prepare(self, frame0: torch.Tensor, frame1: torch.Tensor) -> _NetPair:
        if next(self.net.parameters()).device != frame0.device:
            self.net = self.net.to(frame0.device)
        return _NetPair(frame0.float().contiguous(), frame1.float().contiguous())

    def synthesize(self, pair: object, t: float) -> torch.Tensor:
        import torch.nn.functional as F

        assert isinstance(pair, _NetPair)
        frame0, frame1 = pair.frame0, pair.frame1
        height, width = frame0.shape[-2:]
        small_width, small_height = short_side_size(width, height, self.max_short_side)
        if (small_width, small_height) == (width, height):
            return self.net(frame0, frame1, t).clamp_(0.0, 1.0)
        size = (small_height, small_width)
        small0, small1 = (F.interpolate(f, size=size, mode="area") for f in (frame0, frame1))
        multiple = self.net.config.multiple
        pad = (0, -size[1] % multiple, 0, -size[0] % multiple)
        small0, small1 = (F.pad(f, pad, mode="replicate") for f in (small0, small1))
        times = frame0.new_full((frame0.shape[0],), float(t))
        flows, mask = self.net.estimate(small0, small1, times)
        flows, mask = flows[..., :size[0], :size[1]], mask[..., :size[0], :size[1]]
        flows = F.interpolate(flows, size=(height, width), mode="bilinear", align_corners=False)
        scale = torch.tensor([width / size[1], height / size[0]] * 2, device=flows.device).view(1, 4, 1, 1)
        mask = F.interpolate(mask, size=(height, width), mode="bilinear", align_corners=False)
        return self.net.compose(frame0, frame1, times, flows * scale, mask).clamp_(0.0, 1.0)


def _learned(preset: str) -> Callable[..., Interpolator]:
    def make(*, max_short_side: int = 720) -> Interpolator:
        return LearnedInterpolator(preset=preset, max_short_side=max_short_side)

    return make


for _preset in ("lite", "full"):
    INTERPOLATORS.add(_preset, _learned(_preset))


def _refine(preset: str) -> Callable[..., Interpolator]:
    def make(*, max_short_side: int | None = None) -> Interpolator:
        from vidgan.models.refine import DEFAULT_SCALE, RefineInterpolator

        return RefineInterpolator(preset=preset, max_short_side=max_short_side or DEFAULT_SCALE)

    return make


# ``dis`` corrected by the trained refinement network (vidgan.models.refine)
INTERPOLATORS.add("refine", _refine("lite"))
INTERPOLATORS.add("refine-full", _refine("full"))
