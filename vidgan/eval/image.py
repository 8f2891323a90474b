"""Full-reference image quality: PSNR and SSIM of an output image against the ground truth.

PSNR is over RGB uint8, the whole image, data range 255. SSIM follows scikit-image's
``structural_similarity`` defaults (Wang et al. 2004 with a 7x7 uniform window, sample
covariance, K1 0.01, K2 0.03, the mean over the interior where the window fits, averaged over
the three channels), implemented here with OpenCV box filters; implementations differ by ~0.015
(Gaussian windows, luma only), so name this one when quoting it.
"""

from __future__ import annotations

import cv2
import numpy as np

from vidgan.errors import EvalInputError

__all__ = ["SSIM_K1", "SSIM_K2", "SSIM_WINDOW", "psnr", "ssim"]

SSIM_WINDOW = 7
SSIM_K1, SSIM_K2 = 0.01, 0.03


def psnr(output: np.ndarray, truth: np.ndarray) -> float:
    """PSNR in dB of two uint8 images over all values (infinite when identical)."""
    mse = float(np.mean((output.astype(np.float64) - truth.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def ssim(output: np.ndarray, truth: np.ndarray) -> float:
    """Mean SSIM of two (H, W, 3) uint8 images, as scikit-image's defaults compute it (see the module)."""
    if min(output.shape[:2]) < SSIM_WINDOW:
        raise EvalInputError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels")
    pad = (SSIM_WINDOW - 1) // 2
    samples = SSIM_WINDOW * SSIM_WINDOW
    cov_norm = samples / (samples - 1)
    c1, c2 = (SSIM_K1 * 255) ** 2, (SSIM_K2 * 255) ** 2
    values = []
    for channel in range(output.shape[2]):
        x = output[..., channel].astype(np.float64)
        y = truth[..., channel].astype(np.float64)
        mean = _window_mean
        ux, uy = mean(x), mean(y)
        vx = cov_norm * (mean(x * x) - ux * ux)
        vy = cov_norm * (mean(y * y) - uy * uy)
        vxy = cov_norm * (mean(x * y) - ux * uy)
        s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
        values.append(float(s[pad:-pad, pad:-pad].mean()))
    return float(np.mean(values))


def _window_mean(image: np.ndarray) -> np.ndarray:
    """Mean over the SSIM window around each pixel (the border rows are cropped afterwards)."""
    return cv2.boxFilter(image, cv2.CV_64F, (SSIM_WINDOW, SSIM_WINDOW), borderType=cv2.BORDER_REFLECT)
