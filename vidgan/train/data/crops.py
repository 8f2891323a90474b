"""Random square crops of a resident image set: the style and content domains of style training.

Style folders hold a handful of paintings and content folders a few hundred photos, so every
image is decoded once, downscaled and kept in memory as uint8; batches are cut from that
resident set on the calling thread (no DataLoader workers: on a 2-core machine they cost more
than they save, and the crops take about a millisecond each).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from vidgan.errors import TrainingDataError
from vidgan.io.images import fit_short_side, try_read_image
from vidgan.train.data.files import PathLike, find_images
from vidgan.train.data.images import check_crop, resize, to_batch_tensor

log = logging.getLogger("vidgan")


def window(image: np.ndarray, side: float, rng: np.random.Generator) -> np.ndarray:
    """A square view of about ``side`` pixels at a random place (clamped to the image)."""
    height, width = image.shape[:2]
    side = int(min(max(round(side), 1), height, width))
    y0 = int(rng.integers(0, height - side + 1))
    x0 = int(rng.integers(0, width - side + 1))
    return image[y0:y0 + side, x0:x0 + side]


def cut(
    image: np.ndarray,
    rng: np.random.Generator,
    size: int,
    scale: tuple[float, float],
    flip: bool,
    window_scale: float = 1.0,
) -> tuple[np.ndarray, float]:
    """A random (size, size, 3) crop and its zoom (source pixels per output pixel).

    The window is ``U(scale) x short side x window_scale`` pixels, never less than ``size``
    (no enlarging unless the image is smaller) nor more than the image; synthetic pairs pass
    ``window_scale = size / crop`` to cut a source wider than the crop at the crop's zoom.
    """
    short = min(image.shape[:2])
    side = rng.uniform(*scale) * short * window_scale
    view = window(image, max(side, min(size, short)), rng)
    out = resize(view, size, size)
    if flip and rng.random() < 0.5:
        out = out[:, ::-1]
    return np.ascontiguousarray(out), view.shape[0] / size


class ImageCrops(torch.utils.data.Dataset):
    """Random square crops of a resident image set, for the style and content domains.

    Each image is decoded once and kept as uint8 RGB with its short side at most ``short_side``
    (and at least ``crop``). A crop takes a square window of ``scale`` x the short side at a
    random place, shrinks it to ``crop`` pixels with area averaging and flips it left-right half
    the time. :meth:`sample_batch` is the fast path for a training loop; as a torch ``Dataset``
    (``len`` = number of images) each worker draws from its own generator seeded by ``seed``.

    ``paths`` lists image files (see :func:`find_images`); a single folder is searched for them.
    Decoding runs on ``threads`` threads (default: up to 8). Unreadable files are skipped with
    one warning each; ``skipped`` counts them.
    """

    def __init__(
        self,
        paths: PathLike | Sequence[PathLike],
        crop: int = 128,
        *,
        short_side: int = 512,
        scale: tuple[float, float] = (0.5, 1.0),
        flip: bool = True,
        seed: int = 0,
        threads: int | None = None,
    ) -> None:
        check_crop(crop, short_side)
        if not 0 < scale[0] <= scale[1] <= 1:
            raise TrainingDataError(f"scale must satisfy 0 < low <= high <= 1; got {scale}")
        low, high = scale
        self.crop, self.short_side, self.flip, self.seed = int(crop), short_side, flip, seed
        self.scale: tuple[float, float] = (low, high)
        paths = find_images(paths) if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]
        if not paths:
            raise TrainingDataError("no images given")
        workers = threads or min(8, os.cpu_count() or 1)

        def load(path: Path) -> np.ndarray | None:
            image = try_read_image(path)
            return None if image is None else fit_short_side(image, short_side, min_side=self.crop)

        with ThreadPoolExecutor(workers) as pool:  # OpenCV releases the GIL while decoding
            decoded = list(pool.map(load, paths))
        self.images: list[np.ndarray] = []
        self.paths: list[Path] = []
        self.skipped_paths: list[Path] = []
        for path, image in zip(paths, decoded):
            if image is None:
                self.skipped_paths.append(path)
            else:
                self.images.append(image)
                self.paths.append(path)
        if not self.images:  # one line, not a warning per file before it
            folders = sorted({str(p.parent) for p in paths})
            raise TrainingDataError(f"none of the {len(paths)} images could be read (in {', '.join(folders)})")
        for path in self.skipped_paths:
            log.warning("skipping unreadable image: %s", path)
        self._worker_rng: tuple[int, np.random.Generator] | None = None

    @property
    def skipped(self) -> int:
        """How many files could not be decoded and were left out."""
        return len(self.skipped_paths)

    @property
    def resident_bytes(self) -> int:
        return sum(image.nbytes for image in self.images)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> torch.Tensor:
        """A random crop of image ``index`` as (3, crop, crop) float32."""
        crop = self.crop_array(self.images[index % len(self.images)], self._rng())
        return to_batch_tensor(crop[None])[0]

    def _rng(self) -> np.random.Generator:
        info = torch.utils.data.get_worker_info()
        worker = info.id if info is not None else -1
        if self._worker_rng is None or self._worker_rng[0] != worker:
            self._worker_rng = (worker, np.random.default_rng([self.seed, worker + 1]))
        return self._worker_rng[1]

    def crop_array(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One augmented (crop, crop, 3) crop of ``image``, in the image's dtype."""
        return cut(image, rng, self.crop, self.scale, self.flip)[0]

    def sample_batch(self, batch_size: int, rng: np.random.Generator) -> torch.Tensor:
        """``batch_size`` random crops of random images: (B, 3, crop, crop) float32 in [0, 1].

        Deterministic for a given generator state; images are drawn uniformly.
        """
        out = np.empty((batch_size, self.crop, self.crop, 3), np.uint8)
        for i, index in enumerate(rng.integers(len(self.images), size=batch_size)):
            out[i] = self.crop_array(self.images[index], rng)
        return to_batch_tensor(out)
