"""OpenCV's Dense Inverse Search optical flow (Kroeger et al., ECCV 2016): the one table of presets and the one factory.

Stylize's motion, the classical interpolator, ``vidgan eval temporal`` and the benchmarks all use
DIS; building it here means a preset name means the same flow everywhere. OpenCV is imported on
first use, so the tables below are cheap to read when the command line or a filter's options are
built.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Literal, NamedTuple

from vidgan.errors import UnknownFlowPresetError, did_you_mean

if TYPE_CHECKING:
    import cv2
    import numpy as np

__all__ = [
    "DIS_MIN_SHORT_SIDE",
    "DIS_PRESETS",
    "FLOW_QUALITIES",
    "DisPreset",
    "FlowQuality",
    "UnknownFlowPresetError",
    "create_dis",
    "dense_flow",
    "dis_preset",
    "thread_dis",
]

DisPreset = Literal["ultrafast", "fast", "medium"]

#: DIS preset name -> the OpenCV constant (by attribute name, so that reading the table imports no OpenCV).
_OPENCV_PRESETS: dict[str, str] = {
    "ultrafast": "DISOPTICAL_FLOW_PRESET_ULTRAFAST",
    "fast": "DISOPTICAL_FLOW_PRESET_FAST",
    "medium": "DISOPTICAL_FLOW_PRESET_MEDIUM",
}

#: The DIS preset names every DIS user accepts, fastest first.
DIS_PRESETS: tuple[str, ...] = tuple(_OPENCV_PRESETS)

#: DIS is never run on an image with a shorter side than this. OpenCV rejects images smaller than
#: its patch pyramid and (OpenCV 5.0) crashes the process on some wide images under 32 rows; a
#: sweep from 32 px up, every preset, aspect ratios up to 16384 px a side, found no failure.
#: Smaller frames get no motion (zero confidence).
DIS_MIN_SHORT_SIDE = 32


class FlowQuality(NamedTuple):
    """What one ``stylize`` ``flow=`` quality runs: a DIS preset at a working short side."""

    preset: DisPreset
    short_side: int


#: ``stylize`` ``flow=`` quality -> (DIS preset, short side DIS works at). How closely the flow
#: follows the motion decides how much flicker the blend can remove: on a real 720p close-up the
#: warping error with ``medium`` is under half of per-frame stylization's, with ``fast`` 0.9 of it,
#: which saves ~15 ms a frame at 640x360 on a 2-core CPU for live use (docs/benchmarks.md). ``medium``
#: works at 320 px (it was 240): the full preset's finer strokes show what a coarse flow misses
#: (van_gogh full on a 720p clip at 720 px: E_warp 8.6x the input's with DIS at 240 px, 6.1x at 360),
#: and 320 px costs about 20 ms a frame more than 240 at 640x360, where 360 would cost 30.
FLOW_QUALITIES: dict[str, FlowQuality] = {
    "ultrafast": FlowQuality("ultrafast", 180),
    "fast": FlowQuality("fast", 180),
    "medium": FlowQuality("medium", 320),
}


def dis_preset(name: str) -> int:
    """The OpenCV ``DISOPTICAL_FLOW_PRESET_*`` constant of a preset name."""
    import cv2

    attribute = _OPENCV_PRESETS.get(name)
    if attribute is None:
        raise UnknownFlowPresetError(
            f"unknown DIS preset {name!r}{did_you_mean(name, DIS_PRESETS)}; choose one of {', '.join(DIS_PRESETS)}"
        )
    return getattr(cv2, attribute)


def create_dis(preset: str = "medium") -> cv2.DISOpticalFlow:
    """A new DIS flow object with OpenCV's parameters of ``preset`` (nothing else is tuned).

    An instance keeps state inside each ``calc`` call: use it from one thread at a time.
    """
    import cv2

    return cv2.DISOpticalFlow.create(dis_preset(preset))


_per_thread = threading.local()


def thread_dis(preset: str = "medium") -> cv2.DISOpticalFlow:
    """This thread's DIS object for ``preset``, created on first use: for worker pools computing flows in parallel."""
    instances: dict[str, cv2.DISOpticalFlow] | None = getattr(_per_thread, "instances", None)
    if instances is None:
        instances = _per_thread.instances = {}
    dis = instances.get(preset)
    if dis is None:
        dis = instances[preset] = create_dis(preset)
    return dis


def dense_flow(dis: cv2.DISOpticalFlow, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """(H, W, 2) float32 flow with ``first(x) ≈ second(x + flow)``, from two same-size 8-bit grey images.

    OpenCV computes from scratch when given no initial flow; its stubs list that argument as required.
    """
    return dis.calc(first, second, None)  # type: ignore[call-overload]
