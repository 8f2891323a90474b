"""Interpolation triplets: exact synthetic layered ones, and clip frames read without the eval package."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vidgan.errors import TrainingDataError
from vidgan.ops import reference
from vidgan.train.data.triplets import TripletFrames, clip_frames


def test_synthetic_layered_triplets_have_exact_flows(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(3)
    for i in range(3):
        image = cv2.GaussianBlur(rng.random((140, 180, 3)).astype(np.float32), (0, 0), 1.5)
        cv2.imwrite(str(photos / f"p{i}.png"), (image / image.max() * 255).astype(np.uint8))
    frames = TripletFrames((), image_side=140, max_frames=0, skips=(1,), photos=(str(photos),), max_motion=16)
    images, flows = frames.sample(4, 64, np.random.default_rng(0), flows=True)
    first, middle, last = images[:, :3], images[:, 3:6], images[:, 6:9]
    assert flows.abs().max() >= 2 and (flows.round() == flows).all()  # even displacements, whole-pixel halves
    for end, flow in ((first, flows[:, :2]), (last, flows[:, 2:])):
        rebuilt, _ = reference.warp(end, flow, border="edge")
        exact = ((rebuilt - middle).abs().amax(dim=1) < 1e-5).float().mean()
        assert exact > 0.6  # all but what is occluded or enters the frame


def test_clip_frames_of_a_folder_in_name_order(tmp_path):
    for index in (2, 0, 1):
        cv2.imwrite(str(tmp_path / f"{index:04d}.png"), np.full((8, 10, 3), 40 * index, np.uint8))
    frames = list(clip_frames(tmp_path))
    assert [int(f[0, 0, 0]) for f in frames] == [0, 40, 80] and frames[0].shape == (8, 10, 3)
    assert len(list(clip_frames(tmp_path, max_frames=2))) == 2
    (tmp_path / "0003.png").write_bytes(b"broken")
    with pytest.raises(TrainingDataError, match="cannot read image"):
        list(clip_frames(tmp_path))


def test_triplets_need_a_source():
    with pytest.raises(TrainingDataError, match="no training videos, frame folders or photos given"):
        TripletFrames((), image_side=64, max_frames=4, skips=(1,))


def test_a_clip_with_frames_of_two_sizes_is_one_line_error(tmp_path):
    clip = tmp_path / "clip"
    clip.mkdir()
    for index in range(4):
        cv2.imwrite(str(clip / f"{index:04d}.png"), np.full((48, 64 if index < 2 else 72, 3), 50, np.uint8))
    with pytest.raises(TrainingDataError, match=r"clip: frame 3 is 72x48 but the first frame is 64x48; the frames "
                                                r"of one clip must share one size$"):
        TripletFrames((str(clip),), image_side=48, max_frames=10, skips=(1,))
