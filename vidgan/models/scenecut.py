"""Scene cuts and repeated frames, judged on small grayscale thumbnails (as Practical-RIFE does).

A recurrent stylizer must not drag its previous output across a cut, and an interpolator must
not blend two unrelated shots; both only need a yes/no per frame, so a 64x36 luma thumbnail
(area average: 0.2 ms a 640x360 frame on a CPU) is enough.

The cut test is the zero-mean normalised cross-correlation (ZNCC) of consecutive thumbnails,
plus a floor on their mean absolute difference. ZNCC ignores a global gain and offset, so
brightness flicker and fades do not count, and it stays high under fast motion at this size;
the floor keeps near-flat frames (whose ZNCC is noise) from reading as cuts.

Thresholds, measured on 64x36 thumbnails of real footage (bikes.mp4 640x272, cockatoo.mp4
1280x720, carphone QCIF, a handheld 320x240 clip, BasketballPass, Vimeo-90K septuplets, Sintel)
and on the bundled sample ``samples/landscape.mp4``:

- the six real cuts (bikes.mp4 frames 30, 76, 137, 187, 242; landscape.mp4 frame 50; each the
  first frame of the new shot) have ZNCC -0.23 .. 0.20 and difference 0.18 .. 0.32, and keep
  the same ZNCC under a 0.8x/1.25x gain or +-0.08 offset;
- the 979 other consecutive pairs, and the same pairs with that flicker applied, have ZNCC
  >= 0.54 (the lowest: a blurred fast pan in bikes.mp4, frame 97). Mean absolute difference
  alone cannot separate them: cockatoo.mp4's fast close-up head turn (frame 157) differs by 0.165,
  more than one cut (0.184); histogram distance fails the same way (0.170 vs 0.219).

So a cut is ZNCC < 0.35 (the middle of that gap, nearer the cuts) and difference > 0.03.
Random pairs of frames from two different clips pass that test 96% of the time; the rest share a
layout (sky above ground) and, like a missed cut, fall back on the motion confidence.

Repeated frames: a frame encoded twice by libx264 (CRF 18 to 35) differs from its copy by at
most 0.0012, while consecutive frames of the footage above differ by 0.003 or more, hence
:data:`DUPLICATE_DIFFERENCE` = 0.002.
"""

from __future__ import annotations

import numpy as np
import torch

from vidgan.models.motion import downscaled_luma

__all__ = [
    "CUT_CORRELATION",
    "CUT_MIN_DIFFERENCE",
    "DUPLICATE_DIFFERENCE",
    "THUMBNAIL_SIZE",
    "SceneCutDetector",
    "correlation",
    "difference",
    "is_duplicate",
    "thumbnail",
]

#: Thumbnail (height, width) for landscape frames; portrait frames use it transposed.
THUMBNAIL_SIZE = (36, 64)
#: A cut needs the thumbnails' ZNCC below this ...
CUT_CORRELATION = 0.35
#: ... and their mean absolute difference (luma in [0, 1]) above this.
CUT_MIN_DIFFERENCE = 0.03
#: Thumbnails closer than this (mean absolute difference) are the same picture repeated.
DUPLICATE_DIFFERENCE = 0.002
#: Added to each thumbnail's variance in ZNCC: a flat thumbnail (std below ~0.01, 2.5 grey
#: levels) has no structure to correlate and gets a correlation near 0 instead of noise.
_VARIANCE_FLOOR = 1e-4


def _check_frame(frame: torch.Tensor) -> None:
    if not isinstance(frame, torch.Tensor):
        raise TypeError(f"scene cut: frame must be a torch.Tensor, got {type(frame).__name__}")
    if frame.ndim != 4 or frame.shape[0] != 1 or frame.shape[1] != 3:
        raise ValueError(f"scene cut: frame must be (1, 3, H, W); got shape {tuple(frame.shape)}")
    if not frame.is_floating_point():
        raise TypeError(f"scene cut: frame must be a float tensor in [0, 1]; got {frame.dtype}")


def thumbnail(frame: torch.Tensor) -> np.ndarray:
    """(36, 64) float32 luma in [0, 1] of a (1, 3, H, W) RGB frame ((64, 36) if it is portrait)."""
    _check_frame(frame)
    height, width = frame.shape[-2:]
    size = THUMBNAIL_SIZE if width >= height else THUMBNAIL_SIZE[::-1]
    return downscaled_luma(frame, size)


def _difference(thumb_a: np.ndarray, thumb_b: np.ndarray) -> float:
    return float(np.abs(thumb_a - thumb_b).mean())


def _correlation(thumb_a: np.ndarray, thumb_b: np.ndarray) -> float:
    centred_a = thumb_a - thumb_a.mean()
    centred_b = thumb_b - thumb_b.mean()
    covariance = float((centred_a * centred_b).mean())
    variance_a = float(np.square(centred_a).mean()) + _VARIANCE_FLOOR
    variance_b = float(np.square(centred_b).mean()) + _VARIANCE_FLOOR
    return covariance / float(np.sqrt(variance_a * variance_b))


def difference(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean absolute difference of the two frames' thumbnails (luma in [0, 1]; 0 = identical)."""
    thumb_a, thumb_b = thumbnail(a), thumbnail(b)
    if thumb_a.shape != thumb_b.shape:
        return 1.0
    return _difference(thumb_a, thumb_b)


def correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """ZNCC of the two frames' thumbnails in [-1, 1]: near 1 for the same shot, near 0 across a cut."""
    thumb_a, thumb_b = thumbnail(a), thumbnail(b)
    if thumb_a.shape != thumb_b.shape:
        return 0.0
    return _correlation(thumb_a, thumb_b)


def is_duplicate(a: torch.Tensor, b: torch.Tensor, *, threshold: float = DUPLICATE_DIFFERENCE) -> bool:
    """True when ``b`` repeats ``a`` (up to compression noise): nothing to interpolate between them."""
    return difference(a, b) < threshold


class SceneCutDetector:
    """Says, frame by frame, whether a frame starts a new shot compared with the one before it.

    Stateful: keeps the previous frame's thumbnail. The first frame after construction or
    :meth:`reset` is never a cut. ``last_difference`` and ``last_correlation`` hold the values
    the last decision was made on (None when there was nothing to compare), for logs and tuning.
    """

    def __init__(
        self, *, max_correlation: float = CUT_CORRELATION, min_difference: float = CUT_MIN_DIFFERENCE
    ) -> None:
        if not -1.0 <= max_correlation <= 1.0:
            raise ValueError(f"max_correlation must be in [-1, 1]; got {max_correlation}")
        if not 0.0 <= min_difference <= 1.0:
            raise ValueError(f"min_difference must be in [0, 1]; got {min_difference}")
        self.max_correlation = max_correlation
        self.min_difference = min_difference
        self._previous: np.ndarray | None = None
        self.last_difference: float | None = None
        self.last_correlation: float | None = None

    def reset(self) -> None:
        """Forget the previous frame (a new stream, or a seek)."""
        self._previous = None
        self.last_difference = self.last_correlation = None

    def is_cut(self, frame: torch.Tensor) -> bool:
        """True when ``frame`` (1, 3, H, W) in [0, 1] belongs to another shot than the previous frame."""
        current = thumbnail(frame)
        previous, self._previous = self._previous, current
        if previous is None:
            self.last_difference = self.last_correlation = None
            return False
        if previous.shape != current.shape:  # turned between portrait and landscape: a new picture
            self.last_difference, self.last_correlation = 1.0, 0.0
            return True
        self.last_difference = _difference(previous, current)
        self.last_correlation = _correlation(previous, current)
        return self.last_correlation < self.max_correlation and self.last_difference > self.min_difference
