"""Lab colour distance: how far a set of images' palette is from a painting collection's.

The patch SWD mixes colour with texture; this one looks at colour alone, so a stylization that
collapses the palette (everything brown) shows up even when its strokes look right. See docs/eval.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from vidgan.eval.sliced import random_directions, sliced_wasserstein, subsample

__all__ = ["LAB_DIRECTIONS", "LAB_PIXELS_PER_IMAGE", "lab_distance", "lab_pixels"]

LAB_PIXELS_PER_IMAGE = 4096
"""Random pixels taken from each image (uniform over its pixels), so every image weighs the same."""
LAB_DIRECTIONS = 256
"""Random unit directions in Lab space the SWD averages over."""


def lab_pixels(images: Sequence[np.ndarray], rng: np.random.Generator,
               per_image: int = LAB_PIXELS_PER_IMAGE) -> np.ndarray:
    """(N, 3) float32 OpenCV Lab values (L 0..100, a and b about -128..127) of random pixels of each image.

    ``images`` are float32 RGB in [0, 1] (sRGB, D65; OpenCV's ``COLOR_RGB2Lab`` on float input).
    """
    chosen = []
    for image in images:
        lab = cv2.cvtColor(np.ascontiguousarray(image, dtype=np.float32), cv2.COLOR_RGB2Lab).reshape(-1, 3)
        chosen.append(lab[rng.integers(0, len(lab), per_image)])
    return np.concatenate(chosen).astype(np.float32)


def lab_distance(reference: np.ndarray, pixels: np.ndarray, *, seed: int = 0,
                 directions: int = LAB_DIRECTIONS) -> float:
    """Sliced Wasserstein-1 distance, in Lab units, between two (N, 3) Lab pixel sets.

    The larger set is subsampled to the smaller's size; subsamples and directions come from
    ``seed`` alone, so two calls with the same sets agree exactly.
    """
    count = min(len(reference), len(pixels))
    ref_part = subsample(reference, count, np.random.default_rng([seed, 12]))
    own_part = subsample(pixels, count, np.random.default_rng([seed, 13]))
    return sliced_wasserstein(ref_part, own_part, random_directions(3, directions, np.random.default_rng([seed, 14])))
