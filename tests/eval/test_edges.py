"""vidgan.eval.edges: edge correlation of an output with its input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.eval.synthetic import texture
from vidgan.eval.edges import edge_correlation, gradient_magnitude, resize_to


def frame(seed: int = 0, height: int = 96, width: int = 128) -> np.ndarray:
    return texture(seed, height, width, cell=8).astype(np.float32) / 255


def test_identical_frames_correlate_perfectly():
    frames = [frame(0), frame(1)]
    assert edge_correlation(frames, frames) == pytest.approx([1.0, 1.0], abs=1e-9)


def test_a_recolouring_keeps_the_edges_and_noise_destroys_them():
    inp = frame(0)
    recoloured = inp ** 0.8 * np.array([1.0, 0.9, 0.7], np.float32)
    noise = np.random.default_rng(0).random(inp.shape).astype(np.float32)
    kept, noisy, destroyed = edge_correlation([recoloured, np.clip(inp + 0.5 * (noise - 0.5), 0, 1), noise],
                                              [inp, inp, inp])
    assert kept > 0.95
    assert destroyed < 0.2 < noisy < 0.9


def test_the_output_is_resized_to_the_input():
    inp = frame(0)
    bigger = cv2.resize(inp, (256, 192), interpolation=cv2.INTER_LINEAR)
    assert resize_to(bigger, 96, 128).shape == inp.shape
    assert edge_correlation([bigger], [inp])[0] > 0.9


def test_a_flat_frame_scores_zero_and_frames_must_pair_up():
    flat = np.full((32, 32, 3), 0.5, np.float32)
    assert float(gradient_magnitude(flat).max()) == 0
    assert edge_correlation([flat], [frame(0, 32, 32)]) == [0.0]
    with pytest.raises(ValueError, match="2 output frames but 1 input"):
        edge_correlation([flat, flat], [flat])
