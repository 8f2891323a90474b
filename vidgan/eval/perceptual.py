"""Perceptual style distance: Gram matrices of VGG19 features (Gatys et al. 2016) on an image pyramid.

The statistics a style-transfer loss reads, measured on the result: how close the output's
feature correlations are to the painting collection's, at three scales so that strokes larger
than relu3_1's 24-pixel receptive field count too. Imports torch; :mod:`vidgan.eval.style` loads
this module only when a loss network is given. See docs/eval.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from vidgan.models.lossnet import VGGFeatures

__all__ = ["CROP", "SCALES", "GramDistance", "crop", "gram_distance", "gram_statistics", "image_pyramid"]

SCALES = (1.0, 0.5, 0.25)
"""Pyramid levels, as fractions of the (at most 512-pixel) image."""
CROP = 256
"""At each level one random crop of at most CROP x CROP pixels goes through the network."""

#: Per pyramid level, per layer: a (C, C) Gram matrix (float64).
GramStatistics = list[list[np.ndarray]]


def image_pyramid(image: np.ndarray, scales: Sequence[float] = SCALES) -> list[np.ndarray]:
    """``image`` at each scale (area filter, sizes rounded, at least 1 pixel)."""
    height, width = image.shape[:2]
    levels = []
    for scale in scales:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        levels.append(image if size == (width, height) else cv2.resize(image, size, interpolation=cv2.INTER_AREA))
    return levels


def crop(image: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A ``size`` x ``size`` window at a uniform random position (the whole side where it is shorter)."""
    height, width = image.shape[:2]
    y = int(rng.integers(0, height - size + 1)) if height > size else 0
    x = int(rng.integers(0, width - size + 1)) if width > size else 0
    return image[y:y + size, x:x + size]


def _grams(net: VGGFeatures, image: np.ndarray) -> list[np.ndarray]:
    tensor = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1).unsqueeze(0)
    grams = []
    for feature in net(tensor):
        flat = feature[0].reshape(feature.shape[1], -1).double()
        grams.append((flat @ flat.T / flat.shape[1]).numpy())
    return grams


def gram_statistics(net: VGGFeatures, images: Sequence[np.ndarray], rng: np.random.Generator, *,
                    scales: Sequence[float] = SCALES, crop_size: int = CROP) -> GramStatistics:
    """Mean Gram matrix ``F Fᵀ / (H W)`` per level and layer over one crop of every image at that level.

    ``images`` are float32 RGB in [0, 1]; crop positions are drawn from ``rng`` image by image,
    level by level, so two sets of the same sizes share positions.
    """
    sums: GramStatistics = [[] for _ in scales]
    with torch.inference_mode():
        for image in images:
            for level, scaled in enumerate(image_pyramid(image, scales)):
                grams = _grams(net, crop(scaled, crop_size, rng))
                sums[level] = grams if not sums[level] else [s + g for s, g in zip(sums[level], grams)]
    return [[g / len(images) for g in level] for level in sums]


@dataclass(frozen=True)
class GramDistance:
    """Relative squared Gram distance per pyramid level (outer, finest first) and layer (inner)."""

    per_level: tuple[tuple[float, ...], ...]
    images: int

    @property
    def mean(self) -> float:
        """The perceptual style distance: mean over every level and layer."""
        return float(np.mean(self.per_level))

    @property
    def per_layer(self) -> tuple[float, ...]:
        return tuple(float(v) for v in np.mean(self.per_level, axis=0))


def gram_distance(reference: GramStatistics, own: GramStatistics, images: int) -> GramDistance:
    """``‖G − G_ref‖²_F / ‖G_ref‖²_F`` per level and layer: 0 for the same statistics, 1 for G = 0."""
    per_level = []
    for ref_level, own_level in zip(reference, own):
        per_level.append(tuple(float(np.sum((g - r) ** 2) / max(float(np.sum(r ** 2)), 1e-30))
                               for r, g in zip(ref_level, own_level)))
    return GramDistance(per_level=tuple(per_level), images=images)


