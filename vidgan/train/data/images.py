"""Resizing and batching of training images (reading and short-side fitting: :mod:`vidgan.io.images`).

Images are (H, W, 3) uint8 RGB arrays on the host; batches (B, 3, H, W) float32 in [0, 1].
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from vidgan.errors import TrainingDataError


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
