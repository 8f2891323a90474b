"""vidgan.eval.style: the SWD style distance on synthetic painting sets made in each test."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.eval.synthetic import stripes, texture, write_images, write_video
from vidgan.errors import EvalInputError, InputNotFoundError
from vidgan.eval.style import SwdSettings, laplacian_pyramid, sliced_wasserstein, style_distance

SMALL = SwdSettings(patches_per_image=128)


class TestStylePieces:
    def test_laplacian_pyramid_sums_back_to_the_image(self):
        image = texture(3, 61, 90).astype(np.float32) / 255
        bands = laplacian_pyramid(image, 4)
        assert [b.shape[:2] for b in bands] == [(61, 90), (31, 45), (16, 23), (8, 12)]
        rebuilt = bands[-1]
        for band in reversed(bands[:-1]):
            rebuilt = cv2.pyrUp(rebuilt, dstsize=(band.shape[1], band.shape[0])) + band
        np.testing.assert_allclose(rebuilt, image, atol=1e-5)

    def test_sliced_wasserstein_of_a_shift_is_the_projected_shift(self):
        rng = np.random.default_rng(0)
        a = rng.normal(size=(500, 3)).astype(np.float32)
        shift = np.array([0.3, -1.2, 0.0], np.float32)
        axes = np.eye(3, dtype=np.float32)
        assert sliced_wasserstein(a, a, axes) == 0.0
        assert sliced_wasserstein(a, a + shift, axes) == pytest.approx(np.abs(shift).mean(), rel=1e-5)
        with pytest.raises(ValueError, match="same size"):
            sliced_wasserstein(a, a[:10], axes)


class TestStyleDistance:
    def test_translated_copy_is_closer_than_an_unrelated_texture(self, style_sets):
        report = style_distance(style_sets["paintings"], style_sets["translated"], style_sets["unrelated"],
                                settings=SMALL)
        assert report.output.mean < 0.3 * report.input.mean
        assert report.ratio < 0.3
        assert len(report.output.per_level) == 4 and report.paintings == 4

    def test_deterministic_for_a_seed(self, style_sets):
        first = style_distance(style_sets["paintings"], style_sets["unrelated"], settings=SMALL)
        again = style_distance(style_sets["paintings"], style_sets["unrelated"], settings=SMALL)
        other = style_distance(style_sets["paintings"], style_sets["unrelated"], settings=SwdSettings(
            patches_per_image=128, seed=1))
        assert first.output.per_level == again.output.per_level
        assert first.output.per_level != other.output.per_level
        assert other.output.mean == pytest.approx(first.output.mean, rel=0.1)

    def test_same_output_and_input_give_ratio_one(self, style_sets):
        report = style_distance(style_sets["paintings"], style_sets["unrelated"], style_sets["unrelated"],
                                settings=SMALL)
        assert report.ratio == 1.0

    def test_videos_are_sampled(self, style_sets, tmp_path):
        video = write_video(tmp_path / "v.mp4", [np.roll(stripes(0), 3 * t, axis=1) for t in range(30)])
        report = style_distance(style_sets["paintings"], video, settings=SwdSettings(patches_per_image=64,
                                                                                    max_frames=5))
        assert report.output.images == 5 and report.input is None

    def test_too_small_images_are_refused(self, style_sets, tmp_path):
        tiny = write_images(tmp_path / "tiny", [stripes(0, 40, 40)])
        with pytest.raises(EvalInputError, match="too small for 4 pyramid levels"):
            style_distance(style_sets["paintings"], tiny, settings=SMALL)

    def test_paintings_must_be_a_folder_of_images(self, style_sets, tmp_path):
        with pytest.raises(InputNotFoundError):
            style_distance(tmp_path / "missing", style_sets["translated"])
        (tmp_path / "empty").mkdir()
        with pytest.raises(EvalInputError, match="holds no images"):
            style_distance(tmp_path / "empty", style_sets["translated"])

