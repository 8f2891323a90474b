"""Motion between consecutive frames, by backend name: the recurrent stylizer's view of "what moved".

Each backend turns a pair of frames into a backward flow and its per-pixel confidence, so the
stylizer can warp its previous output to the current frame and trust it only where the motion
is right. Backends register themselves next to their class::

    @register_motion("dis")
    class DisMotion(MotionBackend): ...

and are built by name with :func:`get_motion`. A backend defined in another package is added by
decorating its class the same way and naming it in the ``vidgan.motion`` entry-point group.

Convention:
    frames are (1, 3, H, W) float RGB in [0, 1], both on one device. ``flow_cur_to_prev`` is
    (1, 2, H, W) float32 in pixels on that device, channel 0 = dx, channel 1 = dy, a *backward*
    flow: ``current[y, x] ≈ previous[y + dy, x + dx]`` — exactly what :func:`vidgan.ops.warp`
    takes, so ``warp(previous, flow_cur_to_prev)`` rebuilds ``current``. ``confidence`` is
    (1, 1, H, W) float32 in [0, 1] from :func:`vidgan.ops.consistency`.

Backends keep per-stream state (cached grayscale frames); use one instance per stream, from one
thread, and call :meth:`MotionBackend.reset` at a scene cut or a new stream.
"""

from __future__ import annotations

import abc
import functools
import inspect
import weakref
from dataclasses import dataclass
from typing import ClassVar, get_args

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from vidgan import ops
from vidgan.errors import MotionOptionError, UnknownMotionError, did_you_mean
from vidgan.io.images import short_side_size
from vidgan.models.flow import DIS_MIN_SHORT_SIDE, DIS_PRESETS, DisPreset, create_dis, dense_flow
from vidgan.registry import Registry

__all__ = [
    "DisMotion",
    "MotionBackend",
    "MotionEstimate",
    "MotionOptionError",
    "NoMotion",
    "UnknownMotionError",
    "area_downscale",
    "downscaled_luma",
    "estimate_from_flows",
    "get_motion",
    "motion_names",
    "register_motion",
]


@dataclass(frozen=True)
class MotionEstimate:
    """Backward flow from the current frame to the previous one, and how far to trust it."""

    flow_cur_to_prev: torch.Tensor
    """(1, 2, H, W) float32 pixels: ``current[y, x] ≈ previous[y + dy, x + dx]``."""
    confidence: torch.Tensor
    """(1, 1, H, W) float32 in [0, 1]; 0 where the flow is occluded, on a motion boundary or unknown."""


class MotionBackend(abc.ABC):
    """Estimates the motion between consecutive frames of one stream."""

    name: ClassVar[str] = ""

    @abc.abstractmethod
    def estimate(self, previous: torch.Tensor, current: torch.Tensor) -> MotionEstimate:
        """Backward flow ``current -> previous`` and its confidence, on the inputs' device."""

    def reset(self) -> None:  # noqa: B027 - a no-op by design: stateless backends need not override it
        """Forget per-stream state (after a scene cut, or before another stream)."""


def _check_backend(name: str, cls: type[MotionBackend]) -> None:
    if not (isinstance(cls, type) and issubclass(cls, MotionBackend)):
        raise TypeError(f"{cls!r} is not a MotionBackend subclass")
    cls.name = name


#: Motion backends by name; installed packages add theirs through the ``vidgan.motion`` entry points.
MOTION_BACKENDS: Registry[type[MotionBackend]] = Registry(
    "motion backend", entry_point_group="vidgan.motion", error=UnknownMotionError, check=_check_backend,
)

#: ``@register_motion("name")`` on a MotionBackend subclass.
register_motion = MOTION_BACKENDS.register


def motion_names() -> list[str]:
    """Names :func:`get_motion` accepts, sorted."""
    return MOTION_BACKENDS.names()


def get_motion(name: str, **options: object) -> MotionBackend:
    """A new backend ``name`` built with ``options`` (keyword options of its class)."""
    cls = MOTION_BACKENDS.get(name)
    accepted = [
        p.name
        for p in inspect.signature(cls).parameters.values()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    for key in options:
        if key not in accepted:
            raise MotionOptionError(
                f"motion backend {name!r}: unknown option {key!r}{did_you_mean(key, accepted)}; "
                f"valid options: {', '.join(accepted) or 'none'}"
            )
    return cls(**options)


def _check_pair(previous: torch.Tensor, current: torch.Tensor) -> None:
    """Refuse anything but two (1, 3, H, W) floating tensors of one shape on one device."""
    for label, frame in (("previous", previous), ("current", current)):
        if not isinstance(frame, torch.Tensor):
            raise TypeError(f"motion: {label} must be a torch.Tensor, got {type(frame).__name__}")
        if frame.ndim != 4 or frame.shape[0] != 1 or frame.shape[1] != 3:
            raise ValueError(f"motion: {label} must be (1, 3, H, W); got shape {tuple(frame.shape)}")
        if not frame.is_floating_point():
            raise TypeError(f"motion: {label} must be a float tensor in [0, 1]; got {frame.dtype}")
    if previous.shape != current.shape:
        raise ValueError(
            f"motion: previous {tuple(previous.shape)} and current {tuple(current.shape)} differ in size; "
            "reset() the backend and start over at a size change"
        )
    if previous.device != current.device:
        raise ValueError(f"motion: previous is on {previous.device} but current is on {current.device}")


def estimate_from_flows(flow_cur_to_prev: torch.Tensor, flow_prev_to_cur: torch.Tensor) -> MotionEstimate:
    """Pack a backward flow with its confidence from the forward-backward check against the forward flow."""
    flow_cur_to_prev = flow_cur_to_prev.float().contiguous()
    flow_prev_to_cur = flow_prev_to_cur.float().contiguous()
    return MotionEstimate(flow_cur_to_prev, ops.consistency(flow_cur_to_prev, flow_prev_to_cur))


def _no_motion(like: torch.Tensor) -> MotionEstimate:
    """Zero flow that nothing trusts: the stylizer then treats each frame on its own."""
    _, _, height, width = like.shape
    return MotionEstimate(
        torch.zeros(1, 2, height, width, dtype=torch.float32, device=like.device),
        torch.zeros(1, 1, height, width, dtype=torch.float32, device=like.device),
    )


@register_motion("none")
class NoMotion(MotionBackend):
    """No motion estimation: zero flow and zero confidence, so every frame is stylized on its own."""

    def estimate(self, previous: torch.Tensor, current: torch.Tensor) -> MotionEstimate:
        _check_pair(previous, current)
        return _no_motion(current)


#: ITU-R BT.601 luma weights: DIS matches brightness, and these are what OpenCV's RGB2GRAY uses.
_LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def downscaled_luma(frame: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    """(h, w) float32 BT.601 luma of a (1, 3, H, W) RGB frame, area-averaged down to ``size``.

    The one host array motion and scene-cut checks work on. CPU frames go through OpenCV on a
    zero-copy view (0.1 ms at 640x360, ten times faster than the same torch ops); frames on an
    accelerator are reduced there, so only the small result crosses to the host.
    """
    if frame.device.type == "cpu":
        return _downscaled_luma_host(frame, size)
    return _downscaled_luma_torch(frame, size)


def _downscaled_luma_host(frame: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    planes = frame.detach()[0].to(device="cpu", dtype=torch.float32).contiguous().numpy()
    luma = cv2.addWeighted(planes[0], _LUMA_WEIGHTS[0], planes[1], _LUMA_WEIGHTS[1], 0.0)
    luma = cv2.scaleAdd(planes[2], _LUMA_WEIGHTS[2], luma)
    if luma.shape != size:
        luma = cv2.resize(luma, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return luma


def _downscaled_luma_torch(frame: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    rgb = frame.detach().float()[0]
    luma = rgb[0] * _LUMA_WEIGHTS[0] + rgb[1] * _LUMA_WEIGHTS[1] + rgb[2] * _LUMA_WEIGHTS[2]
    if tuple(luma.shape) != size:
        rows = _area_weights(luma.shape[0], size[0], luma.device)
        columns = _area_weights(luma.shape[1], size[1], luma.device)
        luma = rows @ luma @ columns.T
    return luma.cpu().numpy()


def area_downscale(frame: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(1, C, h, w) area average of a (1, C, H, W) frame, as :func:`downscaled_luma` shrinks luma:
    OpenCV per plane on the CPU (a tenth of torch's adaptive pooling there), the exact-footprint
    weights elsewhere, so both devices give one result."""
    if frame.device.type == "cpu":
        planes = frame.detach()[0].float().contiguous().numpy()
        out = np.empty((planes.shape[0], *size), dtype=np.float32)
        for index, plane in enumerate(planes):
            cv2.resize(plane, (size[1], size[0]), dst=out[index], interpolation=cv2.INTER_AREA)
        return torch.from_numpy(out)[None]
    channels = frame.detach().float()[0]
    rows = _area_weights(channels.shape[-2], size[0], channels.device)
    columns = _area_weights(channels.shape[-1], size[1], channels.device)
    return (rows @ channels @ columns.T)[None].contiguous()


@functools.lru_cache(maxsize=16)
def _area_weights(source: int, target: int, device: torch.device) -> torch.Tensor:
    """(target, source) matrix averaging each output pixel's exact footprint, as OpenCV's INTER_AREA does.

    ``F.interpolate(mode="area")`` rounds the footprints to whole pixels, which moved thumbnails
    by up to 3% of full scale at non-integer factors; these weights match the CPU path to 1e-7.
    """
    scale = source / target
    edges = torch.arange(target + 1, dtype=torch.float64) * scale
    cells = torch.arange(source, dtype=torch.float64)[None, :]
    overlap = torch.minimum(edges[1:, None], cells + 1) - torch.maximum(edges[:-1, None], cells)
    return (overlap.clamp(min=0) / scale).to(device=device, dtype=torch.float32)


def _luma_u8(frame: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    """What DIS takes: 8-bit luma at the working size, rounded and saturated."""
    return np.clip(downscaled_luma(frame, size) * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8)


def _upsample_flows(flows_small: tuple[np.ndarray, ...], size: tuple[int, int], device: torch.device) -> torch.Tensor:
    """(h, w, 2) pixel flows from the working scale -> (N, 2, H, W) float32 at ``size`` on ``device``.

    Bilinear with pixel centres aligned (OpenCV's resize and ``align_corners=False`` agree), the
    vectors multiplied by the per-axis scale factor so they stay in pixels of the full frame.
    CPU results are built by OpenCV (0.4 ms for two flows to 640x360, a third of torch's time);
    for an accelerator the small flows go up and are resized there.
    """
    if device.type == "cpu":
        return _upsample_flows_host(flows_small, size)
    return _upsample_flows_torch(flows_small, size, device)


def _upsample_flows_host(flows_small: tuple[np.ndarray, ...], size: tuple[int, int]) -> torch.Tensor:
    height, width = size
    small_h, small_w = flows_small[0].shape[:2]
    out = np.empty((len(flows_small), 2, height, width), dtype=np.float32)
    for index, flow in enumerate(flows_small):
        for channel, factor in ((0, width / small_w), (1, height / small_h)):
            component = np.ascontiguousarray(flow[..., channel])
            if (small_h, small_w) == size:
                out[index, channel] = component
            else:  # one plane at a time: two-channel resizes were twice as slow
                cv2.resize(component, (width, height), dst=out[index, channel], interpolation=cv2.INTER_LINEAR)
                out[index, channel] *= factor
    return torch.from_numpy(out)


def _upsample_flows_torch(
    flows_small: tuple[np.ndarray, ...], size: tuple[int, int], device: torch.device
) -> torch.Tensor:
    height, width = size
    small_h, small_w = flows_small[0].shape[:2]
    stacked = np.ascontiguousarray(np.stack(flows_small).transpose(0, 3, 1, 2))
    flows = torch.from_numpy(stacked).to(device)
    if (small_h, small_w) != size:
        flows = F.interpolate(flows, size=size, mode="bilinear", align_corners=False)
        factors = torch.tensor([width / small_w, height / small_h], dtype=torch.float32, device=device)
        flows = flows * factors.view(1, 2, 1, 1)
    return flows.contiguous()


#: Side of the window the photometric check averages the grey-level difference over, at DIS's working
#: scale: wide enough that one noisy pixel decides nothing, narrow enough to stop at an object's edge.
PHOTOMETRIC_WINDOW = 5


@functools.lru_cache(maxsize=4)
def _pixel_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Read-only float32 x and y coordinates of every pixel: a stream asks for the same size each frame."""
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    grid_x.flags.writeable = grid_y.flags.writeable = False
    return grid_x, grid_y


def photometric_match(gray_prev: np.ndarray, gray_cur: np.ndarray, flow_cur_to_prev: np.ndarray,
                      tolerance: float) -> np.ndarray:
    """(H, W) float32 in [0, 1]: how well ``gray_prev`` warped by the backward flow matches ``gray_cur``.

    1 where the mean absolute difference over a :data:`PHOTOMETRIC_WINDOW` window is under half of
    ``tolerance`` (0..1 of full scale), 0 above 1.5 times it, linear between (the soft threshold of
    the forward-backward check); 0 where the sample point leaves the previous frame.
    """
    height, width = gray_cur.shape
    grid_x, grid_y = _pixel_grid(height, width)
    map_x, map_y = grid_x + flow_cur_to_prev[..., 0], grid_y + flow_cur_to_prev[..., 1]
    warped = cv2.remap(gray_prev, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    difference = cv2.absdiff(warped, gray_cur).astype(np.float32) * np.float32(1 / 255)
    mean_difference = cv2.blur(difference, (PHOTOMETRIC_WINDOW, PHOTOMETRIC_WINDOW), borderType=cv2.BORDER_REPLICATE)
    match = np.clip(1.5 - mean_difference / np.float32(tolerance), 0.0, 1.0)
    inside = (map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1)
    return np.where(inside, match, np.float32(0.0)).astype(np.float32)


def _estimate_then_upsample(
    flow_cur_to_prev: np.ndarray, flow_prev_to_cur: np.ndarray, size: tuple[int, int], device: torch.device,
    match: np.ndarray | None = None,
) -> MotionEstimate:
    """Confidence from the forward-backward check at the scale the flows were computed at (raised to
    ``match`` where that is higher), then the backward flow and the confidence upsampled to ``size``.

    Checking where the flow was estimated costs a quarter of checking the upsampled flows (at
    640x360 from 320x180: 1.5 ms instead of 5.9 on two CPU cores) and judges the same estimate; the
    forward flow is never upsampled at all.
    """
    small = torch.from_numpy(np.stack((flow_cur_to_prev, flow_prev_to_cur)).transpose(0, 3, 1, 2).copy())
    small = small.to(device)
    confidence = ops.consistency(small[0:1].contiguous(), small[1:2].contiguous())
    if match is not None:
        confidence = torch.maximum(confidence, torch.from_numpy(match).to(device)[None, None])
    if tuple(small.shape[-2:]) == size:
        return MotionEstimate(small[0:1].contiguous(), confidence)
    flow = _upsample_flows((flow_cur_to_prev,), size, device)
    if device.type == "cpu":
        height, width = size
        up = cv2.resize(confidence[0, 0].numpy(), (width, height), interpolation=cv2.INTER_LINEAR)
        confidence = torch.from_numpy(up)[None, None]
    else:
        confidence = F.interpolate(confidence, size=size, mode="bilinear", align_corners=False)
    return MotionEstimate(flow, confidence.clamp_(0.0, 1.0).contiguous())


@register_motion("dis")
class DisMotion(MotionBackend):
    """OpenCV's Dense Inverse Search flow (Kroeger et al., ECCV 2016) on grayscale at a working scale.

    The frames are converted to 8-bit grayscale and downscaled (area average) so their short side
    is at most ``max_short_side``; DIS runs there in both directions, the forward-backward check of
    :func:`vidgan.ops.consistency` gives the confidence at that scale, and the backward flow (its
    vectors scaled by the same factor) and the confidence are upsampled bilinearly to the frame
    size. Each frame is converted once: the current frame's grayscale is kept for the next call,
    whose ``previous`` it is (recognised by identity, and by torch's version counter in case it was
    changed in place).

    Measured at 640x360 on two CPU cores: preset ``fast`` at a 180 px short side takes ~4.6 ms in
    all (DIS both ways 3.4). ``medium`` at 240 px (320 px is the stylizer's default) follows the motion far
    more closely (on a real 720p close-up it lets the temporal blend remove over half of per-frame
    stylization's warping error, where ``fast`` removes a tenth) for ~10 ms more. ``ultrafast``
    saves ~1 ms but trusts fewer pixels (mean confidence 0.58 instead of 0.75 on a handheld clip).
    OpenCV's thread count is left alone: at this size one thread and two run DIS equally fast.

    ``photometric`` > 0 also trusts the flow where the previous grey frame, warped by it, matches the
    current one (:func:`photometric_match`, at the working scale, before upsampling). A coarse flow
    fails its own forward-backward check over blurred and flat regions it carries exactly; on a
    720p close-up with fast motion 44% of van_gogh full's warping error came from pixels the
    evaluator's full-resolution check trusts and this check did not. The stylizer uses 0.02
    (docs/benchmarks.md); 0 is the forward-backward check alone.
    """

    def __init__(self, *, preset: DisPreset = "fast", max_short_side: int = 180, photometric: float = 0.0) -> None:
        if preset not in DIS_PRESETS:
            raise MotionOptionError(
                f"motion backend 'dis': preset={preset!r}{did_you_mean(str(preset), DIS_PRESETS)} is not one of "
                f"{', '.join(get_args(DisPreset))}"
            )
        if not isinstance(max_short_side, int) or max_short_side < DIS_MIN_SHORT_SIDE:
            raise MotionOptionError(
                f"motion backend 'dis': max_short_side must be an integer >= {DIS_MIN_SHORT_SIDE}; "
                f"got {max_short_side!r}"
            )
        if isinstance(photometric, bool) or not isinstance(photometric, (int, float)) or not 0 <= photometric <= 1:
            raise MotionOptionError(f"motion backend 'dis': photometric must be a number in [0, 1]; got {photometric!r}")
        self.preset: DisPreset = preset
        self.max_short_side = max_short_side
        self.photometric = float(photometric)
        self._dis = create_dis(preset)
        self._last_frame: weakref.ref[torch.Tensor] | None = None
        self._last_version = -1
        self._last_gray: np.ndarray | None = None

    def reset(self) -> None:
        self._last_frame = None
        self._last_version = -1
        self._last_gray = None

    def working_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) DIS runs at for a frame of this size."""
        small_width, small_height = short_side_size(width, height, self.max_short_side)
        return small_height, small_width

    def _cached_gray(self, frame: torch.Tensor, size: tuple[int, int]) -> np.ndarray | None:
        if self._last_frame is None or self._last_frame() is not frame or frame._version != self._last_version:
            return None
        if self._last_gray is None or self._last_gray.shape != size:
            return None
        return self._last_gray

    def estimate(self, previous: torch.Tensor, current: torch.Tensor) -> MotionEstimate:
        _check_pair(previous, current)
        _, _, height, width = current.shape
        if min(height, width) < DIS_MIN_SHORT_SIDE:
            self.reset()
            return _no_motion(current)
        size = self.working_size(height, width)
        with torch.no_grad():
            gray_prev = self._cached_gray(previous, size)
            if gray_prev is None:
                gray_prev = _luma_u8(previous, size)
            gray_cur = _luma_u8(current, size)
            self._last_frame, self._last_version, self._last_gray = weakref.ref(current), current._version, gray_cur

            flow_cur_to_prev = dense_flow(self._dis, gray_cur, gray_prev)  # gray_cur(x) ≈ gray_prev(x + flow)
            flow_prev_to_cur = dense_flow(self._dis, gray_prev, gray_cur)
            match = (photometric_match(gray_prev, gray_cur, flow_cur_to_prev, self.photometric)
                     if self.photometric > 0 else None)
            return _estimate_then_upsample(flow_cur_to_prev, flow_prev_to_cur, (height, width), current.device, match)
