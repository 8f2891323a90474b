"""Frame-interpolation quality on triplet folders: PSNR and SSIM (:mod:`vidgan.eval.image`) of the synthesised middle frame.

A data folder holds one folder per sequence, either ``frame0.png, frame1.png (ground truth),
frame2.png`` (UCF101/Vimeo style) or ``frame10.png, frame11.png`` with the ground truth
``frame10i11.png`` (Middlebury style).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from vidgan.errors import EvalInputError, InputNotFoundError
from vidgan.eval.image import psnr, ssim
from vidgan.io.images import read_image

#: (first frame, ground truth, last frame) names of the layouts a sequence folder may use.
LAYOUTS: tuple[tuple[str, str, str], ...] = (
    ("frame0.png", "frame1.png", "frame2.png"),
    ("frame10.png", "frame10i11.png", "frame11.png"),
)


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
