"""vidgan.eval.image: the PSNR and SSIM definitions."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vidgan.errors import EvalInputError
from vidgan.eval.image import SSIM_WINDOW, psnr, ssim


def _texture(seed: int, height: int = 64, width: int = 96) -> np.ndarray:
    rng = np.random.default_rng(seed)
    big = cv2.GaussianBlur(rng.random((height + 16, width + 48, 3)).astype(np.float32), (0, 0), 2.0)
    big = (big - big.min()) / (big.max() - big.min())  # full contrast: blurring noise flattens it
    return (big * 255).round().astype(np.uint8)


def test_psnr_and_ssim_definitions():
    a = _texture(1)
    assert psnr(a, a) == float("inf") and ssim(a, a) == pytest.approx(1.0)
    noisy = np.clip(a.astype(int) + 10, 0, 255).astype(np.uint8)
    assert psnr(noisy, a) == pytest.approx(10 * np.log10(255**2 / np.mean((noisy.astype(float) - a) ** 2)))
    # a constant offset leaves structure and contrast alone: SSIM stays near 1, far above noise's
    rng = np.random.default_rng(0)
    noise = np.clip(a + rng.normal(0, 25, a.shape), 0, 255).astype(np.uint8)
    assert ssim(noisy, a) > 0.95 > ssim(noise, a)


def test_ssim_refuses_images_smaller_than_its_window():
    tiny = np.zeros((SSIM_WINDOW - 1, 20, 3), np.uint8)
    with pytest.raises(EvalInputError, match=f"at least {SSIM_WINDOW}x{SSIM_WINDOW}"):
        ssim(tiny, tiny)
