"""vidgan.io.frames: the frames of videos and frame folders as RGB arrays."""

from __future__ import annotations

import numpy as np
import pytest

from tests.eval.synthetic import moving_square, write_images, write_video
from vidgan.errors import EvalInputError, InputNotFoundError, UnsupportedInputError
from vidgan.io.frames import count_frames, evenly_spaced, frame_files, iter_frames, sample_frames


class TestSampling:
    def test_evenly_spaced(self):
        assert evenly_spaced(250, 16)[0] == 0 and evenly_spaced(250, 16)[-1] == 249
        assert len(set(evenly_spaced(17, 16))) == 16
        assert evenly_spaced(5, 16) == [0, 1, 2, 3, 4]

    def test_video_frames_are_sampled_evenly(self, tmp_path):
        levels = [np.full((64, 64, 3), 10 * i, np.uint8) for i in range(20)]
        frames = sample_frames(write_video(tmp_path / "ramp.mp4", levels), 4)
        assert [round(f.mean() / 10) for f in frames] == [0, 6, 13, 19]

    def test_frame_folders_are_sampled_by_name(self, tmp_path):
        levels = [np.full((16, 16, 3), 10 * i, np.uint8) for i in range(9)]
        frames = sample_frames(write_images(tmp_path / "ramp", levels), 3)
        assert [round(f.mean() / 10) for f in frames] == [0, 4, 8]


class TestReading:
    def test_video_and_folder_give_the_same_frames_in_order(self, tmp_path):
        frames = moving_square(frames=5)
        folder = write_images(tmp_path / "frames", frames)
        read = list(iter_frames(folder))
        assert len(read) == 5 and all(np.array_equal(a, b) for a, b in zip(read, frames))
        video = write_video(tmp_path / "clip.mp4", frames)
        decoded = list(iter_frames(video, max_frames=3))
        assert len(decoded) == 3 and decoded[0].shape == frames[0].shape and decoded[0].dtype == np.uint8
        assert count_frames(video) == count_frames(folder) == 5

    def test_max_frames(self, tmp_path):
        folder = write_images(tmp_path / "frames", moving_square(frames=4))
        assert len(list(iter_frames(folder, max_frames=2))) == 2
        assert list(iter_frames(folder, max_frames=0)) == []

    def test_folder_files_skip_other_files(self, tmp_path):
        folder = write_images(tmp_path / "frames", moving_square(frames=2))
        (folder / "notes.txt").write_text("not a frame")
        assert [p.name for p in frame_files(folder)] == ["0000.png", "0001.png"]

    def test_unusable_folders_raise_the_callers_error(self, tmp_path):
        (tmp_path / "empty").mkdir()
        with pytest.raises(EvalInputError, match="holds no images"):
            list(iter_frames(tmp_path / "empty", error=EvalInputError))
        with pytest.raises(UnsupportedInputError, match="holds no images"):
            list(iter_frames(tmp_path / "empty"))
        with pytest.raises(InputNotFoundError, match="does not exist"):
            frame_files(tmp_path / "missing")
        (tmp_path / "file.png").write_bytes(b"")
        with pytest.raises(EvalInputError, match="is not a folder of images"):
            frame_files(tmp_path / "file.png", error=EvalInputError)
