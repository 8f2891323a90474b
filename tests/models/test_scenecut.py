"""Scene cuts and repeated frames on synthetic footage: motion and flicker are not cuts, a new shot is."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.models.test_motion import texture, to_frame
from vidgan.models.scenecut import (
    DUPLICATE_DIFFERENCE,
    SceneCutDetector,
    correlation,
    difference,
    is_duplicate,
    thumbnail,
)


def scene(height: int, width: int, seed: int) -> np.ndarray:
    """(H, W, 3) texture with detail at several scales, like natural images (fine noise alone
    decorrelates after a pixel of motion, which real footage does not)."""
    layers = [texture(height, width, seed=seed * 3 + i, sigma=sigma) for i, sigma in enumerate((1.5, 4.0, 12.0))]
    return (0.2 * layers[0] + 0.3 * layers[1] + 0.5 * layers[2]).astype(np.float32)


def shot(seed: int, height: int = 72, width: int = 128) -> torch.Tensor:
    """A frame of a "shot": unrelated seeds share nothing but statistics."""
    return to_frame(scene(height, width, seed))


def moving_shot(
    dx: int, dy: int, seed: int = 11, height: int = 72, width: int = 128
) -> tuple[torch.Tensor, torch.Tensor]:
    """(previous, current) of one shot whose content moves ``dx`` px right and ``dy`` px down."""
    pad = max(abs(dx), abs(dy)) + 1
    big = scene(height + 2 * pad, width + 2 * pad, seed)
    previous = big[pad : pad + height, pad : pad + width]
    current = big[pad - dy : pad - dy + height, pad - dx : pad - dx + width]
    return to_frame(previous), to_frame(current)


def test_first_frame_is_never_a_cut():
    detector = SceneCutDetector()
    assert detector.is_cut(shot(0)) is False
    assert detector.last_difference is None and detector.last_correlation is None


def test_small_motion_is_not_a_cut():
    detector = SceneCutDetector()
    previous, current = moving_shot(dx=4, dy=2)
    detector.is_cut(previous)
    assert detector.is_cut(current) is False
    assert detector.last_correlation > 0.8


@pytest.mark.parametrize(("gain", "offset"), [(1.25, 0.0), (0.8, 0.0), (1.0, 0.1), (1.0, -0.1)])
def test_brightness_flicker_is_not_a_cut(gain, offset):
    detector = SceneCutDetector()
    frame = shot(1)
    detector.is_cut(frame)
    assert detector.is_cut((frame * gain + offset).clamp(0.0, 1.0)) is False


def test_unrelated_shots_are_a_cut_and_the_new_shot_continues():
    detector = SceneCutDetector()
    first, second = shot(2), shot(3)
    assert detector.is_cut(first) is False
    assert detector.is_cut(second) is True
    assert detector.last_correlation < 0.35 and detector.last_difference > 0.03
    assert detector.is_cut(second.clone()) is False  # compared with the new shot, not the old one


def test_flat_frames_cut_only_on_a_real_change():
    detector = SceneCutDetector()
    black = torch.zeros(1, 3, 36, 64)
    grain = torch.rand(1, 3, 36, 64, generator=torch.Generator().manual_seed(0)) * 0.02
    detector.is_cut(black)
    assert detector.is_cut(black + grain) is False  # sensor noise on black: no structure, tiny change
    assert detector.is_cut(torch.ones(1, 3, 36, 64)) is True  # black to white


def test_reset_forgets_the_previous_frame():
    detector = SceneCutDetector()
    detector.is_cut(shot(4))
    detector.reset()
    assert detector.is_cut(shot(5)) is False
    assert detector.is_cut(shot(6)) is True


def test_turning_to_portrait_is_a_cut():
    detector = SceneCutDetector()
    detector.is_cut(shot(7, 72, 128))
    assert detector.is_cut(shot(7, 128, 72)) is True


def test_thresholds_are_adjustable_and_checked():
    strict = SceneCutDetector(max_correlation=0.99)
    previous, current = moving_shot(dx=8, dy=0)
    strict.is_cut(previous)
    assert strict.is_cut(current) is True
    with pytest.raises(ValueError, match=r"max_correlation must be in \[-1, 1\]; got 2"):
        SceneCutDetector(max_correlation=2)
    with pytest.raises(ValueError, match=r"min_difference must be in \[0, 1\]; got -0.1"):
        SceneCutDetector(min_difference=-0.1)


def test_thumbnails_keep_the_orientation():
    landscape = thumbnail(torch.rand(1, 3, 90, 160))
    portrait = thumbnail(torch.rand(1, 3, 160, 90))
    tiny = thumbnail(torch.rand(1, 3, 5, 7))
    assert landscape.shape == tiny.shape == (36, 64) and portrait.shape == (64, 36)
    assert landscape.dtype == np.float32
    assert 0.0 <= float(landscape.min()) and float(landscape.max()) <= 1.0


def test_difference_and_duplicates():
    frame = shot(8)
    previous, current = moving_shot(dx=2, dy=1)
    assert difference(frame, frame) == 0.0
    assert 0.95 < correlation(frame, frame) <= 1.0  # under 1 by the variance floor on this low-contrast frame
    assert is_duplicate(frame, frame.clone())
    noise = torch.rand(frame.shape, generator=torch.Generator().manual_seed(1)) * 0.004 - 0.002
    assert is_duplicate(frame, frame + noise)  # compression-sized noise
    assert difference(previous, current) > DUPLICATE_DIFFERENCE
    assert not is_duplicate(previous, current)
    assert difference(shot(9), shot(10)) > 0.03


def test_frames_are_checked():
    detector = SceneCutDetector()
    with pytest.raises(ValueError, match=r"frame must be \(1, 3, H, W\); got shape \(3, 36, 64\)"):
        detector.is_cut(torch.rand(3, 36, 64))
    with pytest.raises(TypeError, match="must be a float tensor"):
        detector.is_cut(torch.zeros(1, 3, 36, 64, dtype=torch.uint8))
