"""vidgan sheet: which inputs become rows (images as RGB, frames of videos), and unusable inputs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.eval.synthetic import moving_square, write_video
from vidgan.errors import VidganError
from vidgan.eval.sheet import _read_inputs


def test_images_in_rgb_and_frames_of_videos(tmp_path):
    rgb = np.zeros((8, 10, 3), np.uint8)
    rgb[..., 0] = 250  # red
    cv2.imwrite(str(tmp_path / "photo.PNG"), rgb[..., ::-1])
    video = write_video(tmp_path / "clip.mp4", moving_square(frames=9))
    rows = _read_inputs([str(tmp_path / "photo.PNG"), str(video)], frames_per_video=2)
    assert [label for label, _ in rows] == ["photo.PNG", "clip.mp4 #3", "clip.mp4 #6"]
    np.testing.assert_array_equal(rows[0][1], rgb)
    assert rows[1][1].shape == (96, 128, 3)


def test_unusable_inputs(tmp_path):
    with pytest.raises(VidganError, match=r"sheet input .*missing\.png does not exist"):
        _read_inputs([str(tmp_path / "missing.png")], 1)
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(VidganError, match=r"sheet input .*broken\.jpg is not a readable image"):
        _read_inputs([str(tmp_path / "broken.jpg")], 1)
