"""Frame-interpolation quality on triplet folders: PSNR and SSIM of the synthesised middle frame.

A data folder holds one folder per sequence, either ``frame0.png, frame1.png (ground truth),
frame2.png`` (UCF101/Vimeo style) or ``frame10.png, frame11.png`` with the ground truth
``frame10i11.png`` (Middlebury style). PSNR is over RGB uint8, the whole image, data range 255.
SSIM follows scikit-image's ``structural_similarity`` defaults (Wang et al. 2004 with a 7x7
uniform window, sample covariance, K1 0.01, K2 0.03, the mean over the interior where the window
fits, averaged over the three channels), implemented here with OpenCV box filters; implementations
differ by ~0.015 (Gaussian windows, luma only), so name this one when quoting it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from vidgan.errors import InputNotFoundError
from vidgan.eval.metrics import EvalInputError, read_image

#: (first frame, ground truth, last frame) names of the layouts a sequence folder may use.
LAYOUTS: tuple[tuple[str, str, str], ...] = (
    ("frame0.png", "frame1.png", "frame2.png"),
    ("frame10.png", "frame10i11.png", "frame11.png"),
)

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


@dataclass(frozen=True)
class Triplet:
    name: str
    first: Path
    truth: Path
    last: Path


def find_triplets(folder: str | Path) -> list[Triplet]:
    """The sequence folders of ``folder`` in name order; each must match one of :data:`LAYOUTS`."""
    root = Path(folder)
    if not root.exists():
        raise InputNotFoundError(f"input {root} does not exist")
    if not root.is_dir():
        raise EvalInputError(f"{root} is not a folder of sequence folders")
    triplets = []
    for sequence in sorted(p for p in root.iterdir() if p.is_dir()):
        for names in LAYOUTS:
            paths = [sequence / name for name in names]
            if all(p.is_file() for p in paths):
                triplets.append(Triplet(sequence.name, *paths))
                break
        else:
            layouts = "; ".join(", ".join(names) for names in LAYOUTS)
            raise EvalInputError(f"{sequence} holds neither triplet layout ({layouts})")
    if not triplets:
        raise EvalInputError(f"{root} holds no sequence folders")
    return triplets


@dataclass(frozen=True)
class SequenceScore:
    name: str
    psnr: float
    ssim: float
    ms: float


@dataclass(frozen=True)
class InterpReport:
    data: str
    model: str
    scores: tuple[SequenceScore, ...]

    @property
    def mean_psnr(self) -> float:
        return float(np.mean([s.psnr for s in self.scores]))

    @property
    def mean_ssim(self) -> float:
        return float(np.mean([s.ssim for s in self.scores]))

    @property
    def mean_ms(self) -> float:
        return float(np.mean([s.ms for s in self.scores]))

    def to_dict(self) -> dict:
        return {
            "metric": "interp", "data": self.data, "model": self.model,
            "psnr": "RGB uint8, whole image, data range 255",
            "ssim": "scikit-image structural_similarity defaults (7x7 uniform window, sample covariance), "
                    "mean of RGB channels",
            "sequences": [s.__dict__ for s in self.scores],
            "mean": {"psnr": self.mean_psnr, "ssim": self.mean_ssim, "ms": self.mean_ms},
        }


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1)[None].float().div_(255.0)


def evaluate(folder: str | Path, model: str = "dis", *, save_dir: str | Path | None = None,
             scale: int = 360) -> InterpReport:
    """Interpolate the middle frame of every triplet in ``folder`` with ``model`` and score it."""
    from vidgan.models.interp import get_interpolator

    interpolator = get_interpolator(model, max_short_side=scale)
    out_dir = Path(save_dir) if save_dir is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    scores = []
    for triplet in find_triplets(folder):
        first, truth, last = (read_image(p) for p in (triplet.first, triplet.truth, triplet.last))
        if not first.shape == truth.shape == last.shape:
            raise EvalInputError(f"{triplet.first.parent}: the three frames differ in size")
        frames = _tensor(first), _tensor(last)
        with torch.no_grad():
            started = time.perf_counter()
            middle = interpolator.synthesize(interpolator.prepare(*frames), 0.5)
            seconds = time.perf_counter() - started
        output = (middle[0].permute(1, 2, 0).numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8)
        if out_dir is not None:
            cv2.imwrite(str(out_dir / f"{triplet.name}.png"), cv2.cvtColor(output, cv2.COLOR_RGB2BGR))
        scores.append(SequenceScore(triplet.name, psnr(output, truth), ssim(output, truth), 1000 * seconds))
    return InterpReport(str(folder), model, tuple(scores))
