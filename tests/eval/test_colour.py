"""vidgan.eval.colour: the Lab colour distance on hand-made palettes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.eval.synthetic import stripes
from vidgan.eval.colour import lab_distance, lab_pixels


def as_float(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float32) / 255


def lab_of(images, seed=0):
    return lab_pixels([as_float(i) for i in images], np.random.default_rng(seed))


def tint(image: np.ndarray, amount: float) -> np.ndarray:
    """Shift towards blue by ``amount`` (0..1) of the way."""
    blue = np.array([40, 60, 230], np.float32)
    return np.clip(image * (1 - amount) + blue * amount, 0, 255).round().astype(np.uint8)


def test_pixels_are_opencv_lab():
    grey = np.full((8, 8, 3), 0.5, np.float32)
    pixels = lab_pixels([grey], np.random.default_rng(0), per_image=10)
    assert pixels.shape == (10, 3)
    np.testing.assert_allclose(pixels[:, 0], cv2.cvtColor(grey, cv2.COLOR_RGB2Lab)[0, 0, 0], rtol=1e-6)
    np.testing.assert_allclose(pixels[:, 1:], 0, atol=1e-3)


def test_identical_sets_are_at_distance_zero():
    images = [stripes(seed) for seed in range(3)]
    assert lab_distance(lab_of(images), lab_of(images)) == 0.0


def test_a_lightness_shift_is_half_the_shift_along_random_directions():
    dark = np.full((16, 16, 3), 100, np.uint8)
    light = np.full((16, 16, 3), 140, np.uint8)
    delta = float(lab_of([light])[0, 0] - lab_of([dark])[0, 0])
    # mean |u . e_L| over unit directions in 3-D is 1/2
    assert lab_distance(lab_of([dark]), lab_of([light]), directions=4096) == pytest.approx(delta / 2, rel=0.03)


def test_a_colour_shift_moves_the_distance_the_right_way():
    paintings = [stripes(seed) for seed in range(3)]
    reference = lab_of(paintings)
    distances = [lab_distance(reference, lab_of([tint(p, amount) for p in paintings])) for amount in (0.1, 0.3, 0.6)]
    assert 0 < distances[0] < distances[1] < distances[2]


def test_deterministic_for_a_seed():
    reference, pixels = lab_of([stripes(0)]), lab_of([tint(stripes(1), 0.2)])
    assert lab_distance(reference, pixels, seed=3) == lab_distance(reference, pixels, seed=3)
