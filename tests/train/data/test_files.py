"""Finding training images, videos and frame folders.

All media are generated in each test's ``tmp_path``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.train.data.media import write_image
from vidgan.errors import VidganError
from vidgan.io.images import IMAGE_SUFFIXES
from vidgan.train.data import (
    TrainingDataError,
    find_images,
)

# -- discovery ------------------------------------------------------------------------------------

def test_find_images_recursive_natural_order_and_filters(tmp_path):
    pixel = np.full((4, 4, 3), 0.5, np.float32)
    names = ["img10.png", "img2.jpg", "sub/deeper/c.bmp", "sub/b.JPEG", "w.webp", ".hidden.png", "notes.txt"]
    for name in names:
        if name.endswith(".txt"):
            (tmp_path / "a" / name).write_text("not an image")
        else:
            write_image(tmp_path / "a" / name, pixel)
    other = write_image(tmp_path / "b" / "z.png", pixel)
    found = find_images([tmp_path / "a", str(tmp_path / "b"), other])  # the repeat is listed once
    rel = [p.relative_to(tmp_path).as_posix() for p in found]
    assert rel == ["a/img2.jpg", "a/img10.png", "a/sub/b.JPEG", "a/sub/deeper/c.bmp", "a/w.webp", "b/z.png"]
    assert find_images(tmp_path / "a") == find_images(tmp_path / "a")  # deterministic
    assert find_images(other) == [other]  # one file is accepted as is


def test_find_images_missing_folder(tmp_path):
    with pytest.raises(TrainingDataError, match=r"^image folder not found: .*nope$"):
        find_images([tmp_path / "nope"])


def test_find_images_empty_folder_names_it(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "readme.txt").write_text("hello")
    for folder in ("empty", "text"):
        expected = f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder: {tmp_path / folder}"
        with pytest.raises(TrainingDataError, match="^" + re.escape(expected) + "$") as info:
            find_images(tmp_path / folder)
        assert isinstance(info.value, VidganError) and isinstance(info.value, ValueError)
        assert "\n" not in str(info.value)
