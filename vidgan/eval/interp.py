"""Frame-interpolation quality on triplet folders: PSNR and SSIM (:mod:`vidgan.eval.image`) of the synthesised middle frame.

A data folder holds one folder per sequence, either ``frame0.png, frame1.png (ground truth),
frame2.png`` (UCF101/Vimeo style) or ``frame10.png, frame11.png`` with the ground truth
``frame10i11.png`` (Middlebury style).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from vidgan.errors import EvalInputError, InputNotFoundError
from vidgan.eval import minterpolate
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


MiddleFrame = Callable[[np.ndarray, np.ndarray], np.ndarray]


def middle_frame_maker(model: str, scale: int | None = None) -> MiddleFrame:
    """``(first, last) -> middle`` uint8 RGB for an interpolation model, or ffmpeg's minterpolate by its name."""
    if model == minterpolate.NAME:
        return minterpolate.middle_frame
    from vidgan.models.interp import get_interpolator

    interpolator = get_interpolator(model, **({} if scale is None else {"max_short_side": scale}))

    def middle(first: np.ndarray, last: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            frame = interpolator.synthesize(interpolator.prepare(_tensor(first), _tensor(last)), 0.5)
        return (frame[0].permute(1, 2, 0).numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8)

    return middle


def check_sizes(triplets: Sequence[Triplet]) -> None:
    """Every triplet's three frames are one size: checked for all before any is interpolated, so a
    bad folder stops the run before it writes anything."""
    for triplet in triplets:
        shapes = [read_image(p).shape for p in (triplet.first, triplet.truth, triplet.last)]
        if len(set(shapes)) != 1:
            sizes = ", ".join(f"{p.name} {w}x{h}" for p, (h, w, _) in
                              zip((triplet.first, triplet.truth, triplet.last), shapes))
            raise EvalInputError(f"{triplet.first.parent}: the three frames differ in size ({sizes})")


def evaluate(folder: str | Path, model: str = "dis", *, save_dir: str | Path | None = None,
             scale: int | None = None) -> InterpReport:
    """Interpolate the middle frame of every triplet in ``folder`` with ``model`` (or ``minterpolate``)
    and score it, motion at ``scale`` px short side (None: the model's own); with ``save_dir`` each frame is also written there, whole files only."""
    triplets = find_triplets(folder)
    check_sizes(triplets)
    middle = middle_frame_maker(model, scale)
    out_dir = Path(save_dir) if save_dir is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    scores = []
    for triplet in triplets:
        first, truth, last = (read_image(p) for p in (triplet.first, triplet.truth, triplet.last))
        started = time.perf_counter()
        output = middle(first, last)
        seconds = time.perf_counter() - started
        if out_dir is not None:
            _write_png(out_dir / f"{triplet.name}.png", output)
        scores.append(SequenceScore(triplet.name, psnr(output, truth), ssim(output, truth), 1000 * seconds))
    return InterpReport(str(folder), model, tuple(scores))


def _write_png(path: Path, rgb: np.ndarray) -> None:
    """Through a temporary name, so an interrupted run leaves no half-written frame."""
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise EvalInputError(f"could not encode {path.name}")
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(encoded.tobytes())
    partial.replace(path)
