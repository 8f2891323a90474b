"""Sliced Wasserstein distance between two point sets: the core of the patch and the colour distances.

Shared by :mod:`vidgan.eval.style` (Laplacian-pyramid patches) and :mod:`vidgan.eval.colour`
(Lab pixels), so both measure "how far apart are two distributions" the same way.
"""

from __future__ import annotations

import numpy as np

__all__ = ["random_directions", "sliced_wasserstein", "subsample"]


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, directions: np.ndarray) -> float:
    """Mean over unit ``directions`` (D, K) of the 1-D Wasserstein-1 distance between projections of ``a`` and ``b``.

    ``a`` and ``b`` are (N, D) with the same N: sorted projections pair up the two empirical
    distributions, so W1 along one direction is the mean absolute difference of the sorted values.
    """
    if len(a) != len(b):
        raise ValueError(f"sliced_wasserstein: sets must be the same size; got {len(a)} and {len(b)}")
    projected_a = np.sort(a @ directions, axis=0)
    projected_b = np.sort(b @ directions, axis=0)
    return float(np.abs(projected_a - projected_b).mean(dtype=np.float64))


def random_directions(dims: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """(dims, count) Gaussian directions scaled to unit length: uniform on the sphere."""
    directions = rng.standard_normal((dims, count)).astype(np.float32)
    return directions / np.linalg.norm(directions, axis=0, keepdims=True)


def subsample(descriptors: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` rows of ``descriptors`` without replacement, in their order: equal-size sets for the SWD."""
    if len(descriptors) <= count:
        return descriptors
    return descriptors[np.sort(rng.choice(len(descriptors), count, replace=False))]
