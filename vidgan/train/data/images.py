"""Decoding and resizing of training images: the one train-side copy of these helpers.

Images are (H, W, 3) uint8 RGB arrays on the host; batches (B, 3, H, W) float32 in [0, 1].
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from vidgan.errors import TrainingDataError
from vidgan.train.data.files import PathLike


def read_image(path: PathLike) -> np.ndarray | None:
    """Decode one image as RGB uint8 (H, W, 3), or None when it is unreadable or corrupt.

    Grey and 16-bit images come back as 8-bit RGB; alpha is dropped. Reads the bytes first so
    paths with any characters work.
    """
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


def fit_short_side(image: np.ndarray, short_side: int, min_side: int) -> np.ndarray:
    """Resize so the short side is at most ``short_side`` and both sides at least ``min_side``."""
    height, width = image.shape[:2]
    short = min(height, width)
    target = max(min(short, short_side), min_side)
    if target == short:
        return np.ascontiguousarray(image)
    factor = target / short
    size = (max(min_side, round(width * factor)), max(min_side, round(height * factor)))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interpolation)


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area averaging when shrinking (no aliasing), bicubic when enlarging.

    Shrinking by 2x or more first averages whole k x k blocks (OpenCV's fast integer path) and
    area-resizes only the rest, which is about twice as fast as one fractional area resize.
    """
    if image.shape[1] == width and image.shape[0] == height:
        return np.ascontiguousarray(image)
    if image.shape[1] < width or image.shape[0] < height:
        resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC)
        if image.dtype != np.uint8:  # bicubic overshoots; keep float images in range
            np.clip(resized, 0.0, 1.0, out=resized)
        return resized
    k = min(image.shape[1] // width, image.shape[0] // height)
    if k >= 2:
        rows, cols = image.shape[0] // k, image.shape[1] // k
        image = cv2.resize(image[:rows * k, :cols * k], (cols, rows), interpolation=cv2.INTER_AREA)
        if cols == width and rows == height:
            return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def to_batch_tensor(batch: np.ndarray) -> torch.Tensor:
    """(B, H, W, 3) uint8 or float -> contiguous (B, 3, H, W) float32 in [0, 1].

    NumPy does the conversion: torch's intra-op threads cost more than they save on tensors
    this small, and the caller's thread settings are left alone.
    """
    out = np.empty((batch.shape[0], batch.shape[3], batch.shape[1], batch.shape[2]), np.float32)
    if batch.dtype == np.uint8:
        np.divide(batch.transpose(0, 3, 1, 2), np.float32(255), out=out)
    else:
        out[...] = batch.transpose(0, 3, 1, 2)
    return torch.from_numpy(out)


def check_crop(crop: int, short_side: int) -> None:
    if int(crop) != crop or crop < 4:
        raise TrainingDataError(f"crop must be an integer of at least 4 pixels; got {crop}")
    if short_side < crop:
        raise TrainingDataError(f"short_side ({short_side}) must be at least the crop ({crop})")
