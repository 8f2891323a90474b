"""Still images on disk: which files count as images, decoding one to RGB, and short-side resizing.

Every reader of photos, paintings and frame folders goes through here, so a file that one command
accepts is accepted by all of them and decodes to the same pixels. OpenCV is imported on first
use: the suffix table is read while the command line is built.

Convention: images are (H, W, 3) uint8 RGB numpy arrays; sizes are (width, height) as OpenCV
takes them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vidgan.errors import InputNotFoundError, UnsupportedInputError, VidganError

__all__ = [
    "IMAGE_SUFFIXES",
    "fit_short_side",
    "is_image",
    "list_images",
    "read_image",
    "short_side_size",
    "try_read_image",
]

#: File suffixes (lower case) read as still images: what OpenCV decodes in every build vidgan runs on.
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def is_image(path: str | os.PathLike[str]) -> bool:
    """Whether the name says image (by suffix, any case); the file itself is not opened."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def list_images(folder: str | os.PathLike[str], *, error: type[VidganError] = UnsupportedInputError) -> list[Path]:
    """The image files directly in ``folder`` (not recursive), sorted by name: the frame order of a frame folder.

    A missing folder raises :class:`InputNotFoundError`; a path that is no folder, or a folder without
    images, raises ``error`` (callers pass their own kind, e.g. ``EvalInputError``).
    """
    folder = Path(folder)
    if not folder.exists():
        raise InputNotFoundError(f"input {folder} does not exist")
    if not folder.is_dir():
        raise error(f"{folder} is not a folder of images")
    files = sorted(p for p in folder.iterdir() if p.is_file() and is_image(p))
    if not files:
        raise error(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def try_read_image(path: str | os.PathLike[str]) -> np.ndarray | None:
    """One image as (H, W, 3) uint8 RGB, or None when it is missing, empty, unreadable or corrupt.

    For callers that skip bad files (training sets). Grey and 16-bit images come back as 8-bit RGB,
    alpha is dropped and EXIF orientation applied (what ``cv2.imread`` does). The bytes are read
    by numpy, so paths with any characters work on every platform.
    """
    import cv2

    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None or image.ndim != 3 or min(image.shape[:2]) < 1:
        return None
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """:func:`try_read_image` for callers that cannot go on without the image: unreadable files raise."""
    image = try_read_image(path)
    if image is None:
        raise UnsupportedInputError(f"cannot read image {path}")
    return image


def short_side_size(width: int, height: int, short_side: int, *, min_side: int = 1) -> tuple[int, int]:
    """(width, height) with the short side shrunk to at most ``short_side``, both sides at least ``min_side``.

    The aspect ratio is kept (each side rounded to the nearest pixel); a size that already fits is
    returned unchanged. ``min_side`` above the short side enlarges (a crop that must fit).
    """
    short = min(width, height)
    target = max(min(short, short_side), min_side)
    if target == short:
        return width, height
    factor = target / short
    return max(min_side, round(width * factor)), max(min_side, round(height * factor))


def fit_short_side(image: np.ndarray, short_side: int, *, min_side: int = 1) -> np.ndarray:
    """``image`` (H, W, C) resized to :func:`short_side_size`: area average when shrinking, bicubic when enlarging.

    An image that already fits comes back as it is (as a contiguous array).
    """
    import cv2

    height, width = image.shape[:2]
    size = short_side_size(width, height, short_side, min_side=min_side)
    if size == (width, height):
        return np.ascontiguousarray(image)
    shrink = min(size) < min(width, height)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
