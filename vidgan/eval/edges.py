"""Edge correlation: does the stylized frame keep the input's content (its edges where they were)?

A style distance alone rewards a stylization that paints the style's own motifs over the photo;
this catches that. See docs/eval.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

__all__ = ["edge_correlation", "gradient_magnitude", "resize_to"]


def gradient_magnitude(image: np.ndarray) -> np.ndarray:
    """Sobel (3x3) gradient magnitude of the BT.601 luma of a float32 RGB image in [0, 1]."""
    luma = cv2.cvtColor(np.ascontiguousarray(image, dtype=np.float32), cv2.COLOR_RGB2GRAY)
    gx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT_101)
    gy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT_101)
    return np.sqrt(gx * gx + gy * gy)


def resize_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``image`` at (height, width): area filter when shrinking, bilinear when enlarging."""
    if image.shape[:2] == (height, width):
        return image
    shrinking = image.shape[0] * image.shape[1] > height * width
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a.ravel().astype(np.float64) - a.mean(dtype=np.float64)
    b = b.ravel().astype(np.float64) - b.mean(dtype=np.float64)
    norm = np.sqrt((a @ a) * (b @ b))
    return float(a @ b / norm) if norm > 0 else 0.0


def edge_correlation(outputs: Sequence[np.ndarray], inputs: Sequence[np.ndarray]) -> list[float]:
    """Per frame pair, the Pearson correlation of the gradient magnitudes, output resized to the input.

    Frames are float32 RGB in [0, 1], paired in order. A frame pair where either side has no
    gradient at all (a flat frame) scores 0.
    """
    if len(outputs) != len(inputs):
        raise ValueError(f"edge_correlation: {len(outputs)} output frames but {len(inputs)} input frames")
    scores = []
    for out, inp in zip(outputs, inputs):
        out = resize_to(out, *inp.shape[:2])
        scores.append(_pearson(gradient_magnitude(out), gradient_magnitude(inp)))
    return scores
