"""Real frame pairs from clips and frame folders, with DIS flow.

All media are generated in each test's ``tmp_path``.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from tests.train.data.media import SHIFT, masked_mean, moving_frames, warp_error, write_clip, write_image
from vidgan.train import data
from vidgan.train.data import (
    TrainingDataError,
    VideoPairs,
    find_sequences,
)

# -- real frame pairs -----------------------------------------------------------------------------

def check_translation(pair: data.MotionPair, border: int = 16) -> None:
    """DIS flow on the interior of a translating texture is the true shift, and trusted."""
    inner = (slice(None), slice(border, -border), slice(border, -border))
    flow, valid = pair.flow_cur_to_prev[inner], pair.valid[inner]
    truth = torch.tensor([-SHIFT[0], -SHIFT[1]], dtype=torch.float32).view(2, 1, 1)
    assert float((flow - truth).abs().mean()) < 0.25
    assert float(valid.mean()) > 0.9


def test_video_pairs_from_clip(tmp_path):
    clip = write_clip(tmp_path / "move.mp4", moving_frames(20))
    pairs = VideoPairs([clip], crop=48)  # 19 pairs: flow is estimated in two chunks
    assert len(pairs) == 19 and pairs.skipped == 0 and pairs.dropped == 0
    for index in (0, 9, 16, 18):
        check_translation(pairs.pair(index))
    previous, current, flow, valid = pairs.sample_batch(6, np.random.default_rng(1))
    assert previous.shape == current.shape == (6, 3, 48, 48)
    assert flow.shape == (6, 2, 48, 48) and valid.shape == (6, 1, 48, 48)
    assert all(t.dtype == torch.float32 and t.is_contiguous() for t in (previous, current, flow, valid))
    flipped = flow[:, 0].mean(dim=(1, 2)) > 0  # mirrored crops move the other way
    assert flipped.any() and not flipped.all()
    error = masked_mean(warp_error(previous, current, flow), valid)  # H.264 noise and chroma included
    assert error < 0.04 and error < 0.5 * masked_mean(warp_error(previous, current, torch.zeros_like(flow)), valid)
    again = pairs.sample_batch(6, np.random.default_rng(1))
    assert all(torch.equal(a, b) for a, b in zip((previous, current, flow, valid), again))


def test_video_pairs_from_frame_folder_in_natural_order(tmp_path):
    folder = tmp_path / "shots" / "take1"
    for i, frame in enumerate(moving_frames(12), start=1):  # frame_1 ... frame_12: frame_10 sorts after frame_9
        write_image(folder / f"frame_{i}.png", frame.astype(np.float32) / 255)
    assert find_sequences(tmp_path / "shots") == [folder]
    pairs = VideoPairs(tmp_path / "shots", crop=48)
    assert len(pairs) == 11
    for index in range(len(pairs)):
        check_translation(pairs.pair(index))
    spread = VideoPairs(folder, crop=48, max_frames_per_video=6, run=3)  # runs 0-2 and 9-11
    assert len(spread) == 4 and len(spread.frames) == 6


def test_video_pairs_skip_unreadable_and_downscale(tmp_path, caplog):
    write_clip(tmp_path / "videos" / "a.mp4", moving_frames(4, size=(320, 240)))
    broken = tmp_path / "videos" / "broken.mkv"
    broken.write_bytes(b"definitely not matroska" * 50)
    with caplog.at_level(logging.WARNING, logger="vidgan"):
        pairs = VideoPairs(tmp_path / "videos", crop=32, short_side=120)
    assert len(pairs) == 3 and pairs.skipped == 1 and pairs.skipped_paths == [broken]
    assert any(str(broken) in r.getMessage() for r in caplog.records)
    assert pairs.frames[0].shape == (120, 160, 3)  # short side 240 -> 120


def test_video_paths_errors(tmp_path):
    with pytest.raises(TrainingDataError, match=r"^video path not found: .*missing$"):
        VideoPairs([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(TrainingDataError, match=r"^no videos or frame folders in: .*empty$"):
        VideoPairs(tmp_path / "empty")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"nope" * 100)
    with pytest.raises(TrainingDataError, match=r"^no usable consecutive frame pairs in .*bad\.mp4$"):
        VideoPairs(bad)
