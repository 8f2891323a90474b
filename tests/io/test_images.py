"""vidgan.io.images: which files are images, decoding them to RGB, and short-side sizes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vidgan.errors import EvalInputError, InputNotFoundError, UnsupportedInputError
from vidgan.io.images import (
    IMAGE_SUFFIXES,
    fit_short_side,
    is_image,
    list_images,
    read_image,
    short_side_size,
    try_read_image,
)
from vidgan.io.source import SEQUENCE_SUFFIXES, is_image_sequence


def _rgb(height: int = 12, width: int = 20) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _write(path, image: np.ndarray) -> None:
    assert cv2.imwrite(str(path), image)


class TestSuffixes:
    def test_any_case_counts(self):
        assert is_image("a.PNG") and is_image("b.JpEg") and is_image("c.tif")
        assert not is_image("clip.mp4") and not is_image("png") and not is_image("frames.exr")

    def test_sequences_take_a_superset(self):
        assert set(IMAGE_SUFFIXES) < set(SEQUENCE_SUFFIXES)
        assert {".exr", ".dpx"} <= set(SEQUENCE_SUFFIXES)
        assert is_image_sequence("shots/%05d.EXR") and is_image_sequence("f/%04d.tiff")
        assert not is_image_sequence("f/0001.png")


class TestListImages:
    def test_sorted_images_only_not_recursive(self, tmp_path):
        for name in ("b.png", "a.JPG", "c.webp"):
            _write(tmp_path / name, _rgb())
        (tmp_path / "notes.txt").write_text("x")
        (tmp_path / "sub").mkdir()
        _write(tmp_path / "sub" / "d.png", _rgb())
        (tmp_path / "folder.png").mkdir()  # a folder with an image's name is no image
        assert [p.name for p in list_images(tmp_path)] == ["a.JPG", "b.png", "c.webp"]

    def test_errors_name_the_folder_in_the_callers_kind(self, tmp_path):
        with pytest.raises(InputNotFoundError, match="does not exist"):
            list_images(tmp_path / "missing")
        (tmp_path / "empty").mkdir()
        with pytest.raises(UnsupportedInputError, match=r"holds no images \(\.png, \.jpg"):
            list_images(tmp_path / "empty")
        with pytest.raises(EvalInputError, match="holds no images"):
            list_images(tmp_path / "empty", error=EvalInputError)
        (tmp_path / "one.png").write_bytes(b"")
        with pytest.raises(EvalInputError, match="is not a folder of images"):
            list_images(tmp_path / "one.png", error=EvalInputError)


class TestReadImage:
    def test_colour_comes_back_as_rgb(self, tmp_path):
        rgb = _rgb()
        _write(tmp_path / "c.png", rgb[..., ::-1])  # OpenCV writes BGR
        image = read_image(tmp_path / "c.png")
        assert image.dtype == np.uint8 and image.shape == (12, 20, 3)
        np.testing.assert_array_equal(image, rgb)

    def test_grey_becomes_three_equal_channels(self, tmp_path):
        grey = _rgb()[..., 0]
        _write(tmp_path / "g.png", grey)
        image = read_image(tmp_path / "g.png")
        assert image.shape == (12, 20, 3)
        for channel in range(3):
            np.testing.assert_array_equal(image[..., channel], grey)

    def test_alpha_is_dropped(self, tmp_path):
        rgb = _rgb()
        bgra = np.dstack([rgb[..., ::-1], np.full(rgb.shape[:2], 7, np.uint8)])
        _write(tmp_path / "a.png", bgra)
        np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgb)

    def test_sixteen_bit_becomes_eight_bit(self, tmp_path):
        grey16 = np.full((8, 8), 0x8000, np.uint16)
        _write(tmp_path / "deep.png", grey16)
        image = read_image(tmp_path / "deep.png")
        assert image.dtype == np.uint8 and image.shape == (8, 8, 3) and int(image[0, 0, 0]) == 0x80

    def test_path_with_unusual_characters(self, tmp_path):
        path = tmp_path / "été #1 [x].png"
        _write(tmp_path / "plain.png", _rgb()[..., ::-1])
        path.write_bytes((tmp_path / "plain.png").read_bytes())
        np.testing.assert_array_equal(read_image(path), _rgb())

    @pytest.mark.parametrize("content", [b"", b"not an image at all", None])
    def test_unreadable_files(self, tmp_path, content):
        path = tmp_path / "bad.png"
        if content is not None:
            path.write_bytes(content)
        assert try_read_image(path) is None
        with pytest.raises(UnsupportedInputError, match=r"cannot read image .*bad\.png"):
            read_image(path)

    def test_truncated_file_is_unreadable_or_partial_never_a_crash(self, tmp_path):
        _write(tmp_path / "whole.png", _rgb(64, 64))
        data = (tmp_path / "whole.png").read_bytes()
        (tmp_path / "cut.png").write_bytes(data[: len(data) // 3])
        image = try_read_image(tmp_path / "cut.png")
        assert image is None or image.shape == (64, 64, 3)


class TestShortSide:
    @pytest.mark.parametrize(("size", "short_side", "expected"), [
        ((640, 360), 180, (320, 180)),
        ((360, 640), 180, (180, 320)),  # portrait: height is the long side
        ((640, 360), 360, (640, 360)),  # already fits: unchanged
        ((640, 360), 720, (640, 360)),  # never enlarged
        ((1920, 1080), 240, (427, 240)),  # 426.67 rounds to nearest
        ((641, 361), 180, (320, 180)),  # odd sizes: 319.6 -> 320
        ((101, 99), 50, (51, 50)),
        ((1000, 3), 1, (333, 1)),
        ((4000, 2), 1, (2000, 1)),
    ])
    def test_sizes(self, size, short_side, expected):
        assert short_side_size(*size, short_side) == expected

    def test_a_very_thin_image_keeps_at_least_one_pixel(self):
        assert short_side_size(3, 1000, 1) == (1, 333)
        assert short_side_size(1, 5000, 2) == (1, 5000)  # short side 1 already fits

    def test_min_side_enlarges_to_fit_a_crop(self):
        assert short_side_size(100, 50, 512, min_side=64) == (128, 64)
        assert short_side_size(1000, 500, 256, min_side=64) == (512, 256)
        assert short_side_size(31, 17, 16, min_side=32) == (58, 32)  # 58.35
        assert short_side_size(64, 64, 16, min_side=64) == (64, 64)

    def test_fit_short_side_shrinks_by_area_average(self):
        image = np.zeros((4, 8, 3), np.uint8)
        image[:, ::2] = 200  # stripes one pixel wide average to grey
        small = fit_short_side(image, 2)
        assert small.shape == (2, 4, 3)
        assert np.all(small == 100)

    def test_fit_short_side_keeps_a_fitting_image(self):
        image = _rgb()[:, ::2]  # a non-contiguous view
        same = fit_short_side(image, 100)
        np.testing.assert_array_equal(same, image)
        assert same.flags.c_contiguous

    def test_fit_short_side_enlarges_only_for_min_side(self):
        image = _rgb(10, 15)
        assert fit_short_side(image, 100).shape == (10, 15, 3)
        assert fit_short_side(image, 100, min_side=20).shape == (20, 30, 3)
