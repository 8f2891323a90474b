"""Evaluation metrics for stylized video, and the commands behind ``vidgan eval``.

- :func:`warping_error`: temporal warping error E_warp (Lai et al., ECCV 2018), flows and
  occlusions from the original video.
- :func:`style_distance`: multi-scale sliced Wasserstein distance of Laplacian-pyramid patches
  (Karras et al., ICLR 2018) against a folder of paintings.

The names below load :mod:`vidgan.eval.metrics` (torch, OpenCV) on first use, so that building the
command line stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_METRICS = (
    "EvalInputError",
    "FrameMismatchError",
    "StyleReport",
    "SwdSettings",
    "TemporalReport",
    "WarpError",
    "style_distance",
    "warping_error",
    "warping_error_frames",
)

__all__ = list(_METRICS)


def __getattr__(name: str) -> Any:
    if name in _METRICS:
        return getattr(importlib.import_module("vidgan.eval.metrics"), name)
    raise AttributeError(f"module 'vidgan.eval' has no attribute {name!r}")
