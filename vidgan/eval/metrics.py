"""The names ``vidgan.eval.metrics`` has always offered, now kept by one module per job.

Frames are read by :mod:`vidgan.eval.frames`, E_warp lives in :mod:`vidgan.eval.temporal` and
the style distance in :mod:`vidgan.eval.style`; import from those. This module keeps the old
import path working for code written against it.
"""

from __future__ import annotations

from vidgan.errors import EvalInputError, FrameMismatchError
from vidgan.eval.frames import count_frames, evenly_spaced, iter_frames, sample_frames
from vidgan.eval.frames import frame_files as list_images  # raises EvalInputError, as it always did here
from vidgan.eval.style import (
    StyleDistance,
    StyleReport,
    SwdSettings,
    laplacian_pyramid,
    patch_descriptors,
    sliced_wasserstein,
    style_distance,
)
from vidgan.eval.temporal import (
    GOAL_RATIO,
    PAPER_FACTOR,
    TemporalReport,
    WarpError,
    WarpErrorResult,
    cut_pairs,
    masked_warp_error,
    valid_mask,
    warping_error,
    warping_error_frames,
)
from vidgan.io.images import IMAGE_SUFFIXES, read_image
from vidgan.models.flow import DIS_PRESETS

__all__ = [
    "DIS_PRESETS",
    "GOAL_RATIO",
    "IMAGE_SUFFIXES",
    "PAPER_FACTOR",
    "EvalInputError",
    "FrameMismatchError",
    "StyleDistance",
    "StyleReport",
    "SwdSettings",
    "TemporalReport",
    "WarpError",
    "WarpErrorResult",
    "count_frames",
    "cut_pairs",
    "evenly_spaced",
    "iter_frames",
    "laplacian_pyramid",
    "list_images",
    "masked_warp_error",
    "patch_descriptors",
    "read_image",
    "sample_frames",
    "sliced_wasserstein",
    "style_distance",
    "valid_mask",
    "warping_error",
    "warping_error_frames",
]
