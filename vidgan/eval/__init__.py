"""Evaluation metrics for stylized video, and the commands behind ``vidgan eval``.

- :mod:`vidgan.eval.temporal`: temporal warping error E_warp (Lai et al., ECCV 2018), flows and
  occlusions from the original video.
- :mod:`vidgan.eval.style`: multi-scale sliced Wasserstein distance of Laplacian-pyramid patches
  (Karras et al., ICLR 2018) against a folder of paintings.
- :mod:`vidgan.eval.image`: PSNR and SSIM; :mod:`vidgan.eval.interp` scores interpolation with them.
- :mod:`vidgan.io.frames` reads the frames of a video or frame folder the metrics compare.

The names below load their module (torch, OpenCV) on first use, so that building the command line
stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> the module that defines it.
_HOMES: dict[str, str] = {
    "EvalInputError": "vidgan.errors",
    "FrameMismatchError": "vidgan.errors",
    "StyleReport": "vidgan.eval.style",
    "SwdSettings": "vidgan.eval.style",
    "style_distance": "vidgan.eval.style",
    "TemporalReport": "vidgan.eval.temporal",
    "WarpError": "vidgan.eval.temporal",
    "warping_error": "vidgan.eval.temporal",
    "warping_error_frames": "vidgan.eval.temporal",
}

__all__ = list(_HOMES)


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'vidgan.eval' has no attribute {name!r}")
