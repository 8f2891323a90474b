"""Synthetic media for the training-data tests: smooth random textures and a tiny translating clip."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import torch

from vidgan import ops

SHIFT = (2, 1)  # texture motion per frame in the test clips, pixels (x, y)


def texture(height: int, width: int, seed: int = 0, sigma: float = 2.5) -> np.ndarray:
    """Smooth random RGB texture (H, W, 3) float32 in [0.05, 0.95]: detail for flow, no aliasing."""
    noise = np.random.default_rng(seed).random((height, width, 3)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), sigma)
    low, high = smooth.min(axis=(0, 1)), smooth.max(axis=(0, 1))
    return 0.05 + 0.9 * (smooth - low) / (high - low)


def write_image(path: Path, rgb: np.ndarray) -> Path:
    """Write a float RGB image in [0, 1] as an 8-bit file (OpenCV wants BGR)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), cv2.cvtColor(np.round(rgb * 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
    return path


def moving_frames(count: int, size: tuple[int, int] = (160, 120), seed: int = 3) -> list[np.ndarray]:
    """``count`` uint8 RGB frames of a texture moving SHIFT pixels right and down per frame.

    The window slides the other way over a larger texture, so ``frame[i + 1](x) == frame[i](x - SHIFT)``:
    the backward flow is ``-SHIFT`` everywhere.
    """
    width, height = size
    x0, y0 = 4 + count * SHIFT[0], 4 + count * SHIFT[1]
    big = np.round(texture(height + y0 + 4, width + x0 + 4, seed) * 255).astype(np.uint8)
    return [np.ascontiguousarray(big[y0 - i * SHIFT[1]:y0 - i * SHIFT[1] + height,
                                     x0 - i * SHIFT[0]:x0 - i * SHIFT[0] + width]) for i in range(count)]


def write_clip(path: Path, frames: list[np.ndarray], rate: int = 25) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(rate))
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "10", "preset": "ultrafast"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def warp_error(previous: torch.Tensor, current: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Per-pixel mean absolute error (N, 1, H, W) of warping ``previous`` by ``flow`` onto ``current``."""
    warped, _ = ops.warp(previous.contiguous(), flow.contiguous())
    return (warped - current).abs().mean(dim=1, keepdim=True)


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> float:
    return float((values * mask).sum() / mask.sum().clamp_min(1))
