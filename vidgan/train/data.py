"""Training data: resident image crops, synthetic motion pairs and real frame pairs with flow.

Style folders hold a handful of paintings and content folders a few hundred photos, so every
image is decoded once, downscaled and kept in memory as uint8; batches are cut from that
resident set on the calling thread (no DataLoader workers: on a 2-core machine they cost more
than they save, and the crops take about a millisecond each).

Temporal training needs frame pairs with a *known* backward flow. :func:`synthetic_batch` makes
them from still photos: both frames are bilinear resamplings of one source crop, the background
moves by a random homography plus a smooth elastic field, and pasted foreground patches move on
their own, so occlusions come from known geometry. :class:`VideoPairs` supplies real consecutive
frames with OpenCV DIS flow and a forward-backward validity mask.

Convention (that of :mod:`vidgan.ops`): images (N, 3, H, W) float32 RGB in [0, 1]; flows
(N, 2, H, W) in pixels, channel 0 = dx, 1 = dy, *backward* from the current frame to the
previous one, so ``vidgan.ops.warp(previous, flow)`` reproduces ``current`` wherever
``valid`` (N, 1, H, W, float 0/1) is 1.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import cv2
import numpy as np
import torch

from vidgan.errors import TrainingDataError

log = logging.getLogger("vidgan")

PathLike = str | os.PathLike[str]
T = TypeVar("T")

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".mts",
                  ".flv", ".wmv", ".nut", ".y4m", ".gif")

__all__ = [
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "ImageCrops",
    "MotionConfig",
    "MotionPair",
    "Occluder",
    "Prefetcher",
    "TrainingDataError",
    "VideoPairs",
    "find_images",
    "find_sequences",
    "read_image",
    "render_pair",
    "synthetic_batch",
    "synthetic_pair",
]


# -- discovery ------------------------------------------------------------------------------------

def _as_paths(paths: PathLike | Iterable[PathLike]) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    return [Path(p) for p in paths]


def _natural_key(path: Path) -> list:
    """Sort ``frame_2`` before ``frame_10``: digit runs compare as numbers."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.as_posix())]


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def find_images(folders: PathLike | Iterable[PathLike]) -> list[Path]:
    """Every image (jpg, jpeg, png, bmp, webp) under ``folders``, recursively, in a fixed order.

    A folder contributes its files in natural path order (hidden files skipped), folders in the
    order given, duplicates once. A path may also name one image file. A missing folder or one
    without images raises :class:`TrainingDataError`, so a typo fails before training starts.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    roots = _as_paths(folders)
    if not roots:
        raise TrainingDataError("no image folders given")
    for root in roots:
        if not root.exists():
            raise TrainingDataError(f"image folder not found: {root}")
        if root.is_file():
            if root.suffix.lower() not in IMAGE_SUFFIXES:
                raise TrainingDataError(f"not an image ({', '.join(IMAGE_SUFFIXES)}): {root}")
            files = [root]
        else:
            files = sorted((p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
                            and p.is_file() and _visible(p, root)), key=_natural_key)
            if not files:
                raise TrainingDataError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder: {root}")
        for path in files:
            if path.resolve() not in seen:
                seen.add(path.resolve())
                found.append(path)
    return found


def find_sequences(paths: PathLike | Iterable[PathLike]) -> list[Path]:
    """Video files and frame folders under ``paths``: the units :class:`VideoPairs` reads.

    A video file is taken as is; a folder is searched recursively, and every folder holding at
    least two images directly is one frame sequence (``frame_0001.png, frame_0002.png, ...`` in
    natural order), every video file in it one video.
    """
    found: list[Path] = []
    roots = _as_paths(paths)
    if not roots:
        raise TrainingDataError("no video paths given")
    for root in roots:
        if not root.exists():
            raise TrainingDataError(f"video path not found: {root}")
        if root.is_file():
            found.append(root)
            continue
        before = len(found)
        folders = [root, *sorted((p for p in root.rglob("*") if p.is_dir() and _visible(p, root)), key=_natural_key)]
        for folder in folders:
            files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
            if sum(p.suffix.lower() in IMAGE_SUFFIXES for p in files) >= 2:
                found.append(folder)
            found.extend(sorted((p for p in files if p.suffix.lower() in VIDEO_SUFFIXES), key=_natural_key))
        if len(found) == before:
            raise TrainingDataError(f"no videos or frame folders in: {root}")
    return found


# -- decoding -------------------------------------------------------------------------------------

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


def _fit_short_side(image: np.ndarray, short_side: int, min_side: int) -> np.ndarray:
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


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
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


def _to_batch_tensor(batch: np.ndarray) -> torch.Tensor:
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


def _check_crop(crop: int, short_side: int) -> None:
    if int(crop) != crop or crop < 4:
        raise TrainingDataError(f"crop must be an integer of at least 4 pixels; got {crop}")
    if short_side < crop:
        raise TrainingDataError(f"short_side ({short_side}) must be at least the crop ({crop})")


# -- still images ---------------------------------------------------------------------------------

def _window(image: np.ndarray, side: float, rng: np.random.Generator) -> np.ndarray:
    """A square view of about ``side`` pixels at a random place (clamped to the image)."""
    height, width = image.shape[:2]
    side = int(min(max(round(side), 1), height, width))
    y0 = int(rng.integers(0, height - side + 1))
    x0 = int(rng.integers(0, width - side + 1))
    return image[y0:y0 + side, x0:x0 + side]


def _cut(
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
    view = _window(image, max(side, min(size, short)), rng)
    out = _resize(view, size, size)
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
        _check_crop(crop, short_side)
        if not 0 < scale[0] <= scale[1] <= 1:
            raise TrainingDataError(f"scale must satisfy 0 < low <= high <= 1; got {scale}")
        self.crop, self.short_side, self.scale, self.flip, self.seed = int(crop), short_side, tuple(scale), flip, seed
        paths = find_images(paths) if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]
        if not paths:
            raise TrainingDataError("no images given")
        workers = threads or min(8, os.cpu_count() or 1)

        def load(path: Path) -> np.ndarray | None:
            image = read_image(path)
            return None if image is None else _fit_short_side(image, short_side, self.crop)

        with ThreadPoolExecutor(workers) as pool:  # OpenCV releases the GIL while decoding
            decoded = list(pool.map(load, paths))
        self.images: list[np.ndarray] = []
        self.paths: list[Path] = []
        self.skipped_paths: list[Path] = []
        for path, image in zip(paths, decoded):
            if image is None:
                log.warning("skipping unreadable image: %s", path)
                self.skipped_paths.append(path)
            else:
                self.images.append(image)
                self.paths.append(path)
        if not self.images:
            folders = sorted({str(p.parent) for p in paths})
            raise TrainingDataError(f"none of the {len(paths)} images could be read (in {', '.join(folders)})")
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
        return _to_batch_tensor(crop[None])[0]

    def _rng(self) -> np.random.Generator:
        info = torch.utils.data.get_worker_info()
        worker = info.id if info is not None else -1
        if self._worker_rng is None or self._worker_rng[0] != worker:
            self._worker_rng = (worker, np.random.default_rng([self.seed, worker + 1]))
        return self._worker_rng[1]

    def crop_array(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One augmented (crop, crop, 3) crop of ``image``, in the image's dtype."""
        return _cut(image, rng, self.crop, self.scale, self.flip)[0]

    def sample_batch(self, batch_size: int, rng: np.random.Generator) -> torch.Tensor:
        """``batch_size`` random crops of random images: (B, 3, crop, crop) float32 in [0, 1].

        Deterministic for a given generator state; images are drawn uniformly.
        """
        out = np.empty((batch_size, self.crop, self.crop, 3), np.uint8)
        for i, index in enumerate(rng.integers(len(self.images), size=batch_size)):
            out[i] = self.crop_array(self.images[index], rng)
        return _to_batch_tensor(out)

    def to_tensor_bank(self, device: torch.device | str) -> list[torch.Tensor]:
        """The resident images as uint8 (3, H, W) tensors on ``device``, for GPU-side sampling.

        A list rather than one padded tensor: sizes differ, and padding a 2:1 panorama to a
        square set wastes up to half the memory. The training loop does not need this:
        :meth:`sample_batch` costs about a millisecond per crop on one core and the batch it
        returns is tiny to upload, while area-averaged downscaling (what keeps crops alias-free)
        has no batched GPU equivalent for per-sample windows.
        """
        return [torch.from_numpy(image).permute(2, 0, 1).contiguous().to(device) for image in self.images]


# -- synthetic motion -----------------------------------------------------------------------------

@dataclass(frozen=True)
class MotionConfig:
    """Ranges of the random motion in :func:`synthetic_batch`; pixel amounts are at crop scale.

    The background moves by a homography (rotation, scale, translation, corner jitter for
    perspective) plus an elastic field (uniform node displacements on a coarse grid, bicubic
    upsampled); each occluder is a pasted patch whose own rotation, scale and translation differ
    from the background's by ``occluder_motion`` pixels, so covered and uncovered pixels are known.
    """

    max_translation: float = 8.0
    max_rotation: float = 3.0  # degrees
    scale: tuple[float, float] = (0.95, 1.05)
    perspective: float = 3.0  # corner jitter in pixels
    elastic: float = 2.5  # node displacement amplitude in pixels
    elastic_grid: int = 4  # nodes per side
    occluder_prob: float = 0.6  # chance that a pair has occluders at all
    max_occluders: int = 2
    occluder_size: tuple[float, float] = (0.2, 0.5)  # side, as a fraction of the crop
    occluder_motion: tuple[float, float] = (2.0, 10.0)  # pixels, relative to the background
    occluder_rotation: float = 10.0  # degrees
    occluder_scale: tuple[float, float] = (0.9, 1.1)

    def margin(self, crop: int) -> int:
        """Border around the crop that covers every background displacement this config can make.

        A bound per axis: translation, plus rotation and scale about the centre at the farthest
        pixel, plus the corner jitter (a little more inside the homography), plus elastic
        overshoot of bicubic upsampling.
        """
        half = (crop - 1) / 2
        theta = math.radians(self.max_rotation)
        scale_dev = max(abs(self.scale[0] - 1), abs(self.scale[1] - 1))
        turn = half * (scale_dev + self.scale[1] * (math.sin(theta) + 1 - math.cos(theta)))
        reach = self.max_translation + turn + 1.5 * self.perspective + 1.3 * self.elastic
        return int(math.ceil(reach)) + 1


@dataclass
class MotionPair:
    """Two frames and the backward flow between them (see the module docstring's convention)."""

    previous: torch.Tensor  # (3, h, w)
    current: torch.Tensor  # (3, h, w)
    flow_cur_to_prev: torch.Tensor  # (2, h, w): current[y, x] == previous[y + dy, x + dx]
    valid: torch.Tensor  # (1, h, w): 1 where that holds (inside the previous frame, not occluded)


@dataclass
class Occluder:
    """A foreground patch for :func:`render_pair`, drawn over the background in list order."""

    rgba: np.ndarray  # (ph, pw, 4) float32 in [0, 1]: colour and alpha
    top_left: tuple[int, int]  # (x, y) of the patch's pixel (0, 0) in the previous frame
    coords: np.ndarray  # (2, h, w): where each current pixel's patch content sits in the previous frame


def _all_taps(mask: np.ndarray, beyond: bool) -> np.ndarray:
    """``out[y, x]``: ``mask`` holds at all four bilinear taps whose top-left is (y, x); taps past
    the last row or column read ``beyond``."""
    rows = mask.copy()
    rows[:, :-1] &= mask[:, 1:]
    if not beyond:
        rows[:, -1] = False
    out = rows.copy()
    out[:-1] &= rows[1:]
    if not beyond:
        out[-1] = False
    return out


class _Taps:
    """The top-left bilinear tap of each sample point on a table, floored once and reused."""

    def __init__(self, x: np.ndarray, y: np.ndarray, width: int, height: int) -> None:
        x0, y0 = np.floor(x), np.floor(y)
        self.on = (x0 >= 0) & (x0 <= width - 1) & (y0 >= 0) & (y0 <= height - 1)
        self.index = (np.clip(y0, 0, height - 1) * width + np.clip(x0, 0, width - 1)).astype(np.intp)

    def read(self, table: np.ndarray, off: bool) -> np.ndarray:
        """``table`` at each tap; ``off`` where the tap is off the table."""
        value = table.ravel()[self.index]
        return value | ~self.on if off else value & self.on


def _render(
    source: np.ndarray, coords: np.ndarray, margin: int, occluders: Sequence[Occluder]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Both frames (h, w, 3), the flow (2, h, w) and its validity (h, w) for one pair.

    The previous frame is ``source[margin:margin+h, margin:margin+w]`` with the occluders pasted
    at integer offsets; the current frame samples the background at ``coords + margin`` and each
    occluder at its own coordinates, bilinearly (OpenCV's remap, like ``vidgan.ops.warp``), and
    composites. The flow is that of the layer seen at each pixel. It is valid where that layer is
    seen alone, in the current frame and at all four bilinear taps in the previous one (checked
    on exact masks, so at most a one-pixel band is given up at layer edges), and the sample point
    lies inside the previous frame.
    """
    height, width = coords.shape[1:]
    previous = source[margin:margin + height, margin:margin + width].copy()
    current = cv2.remap(source, coords[0] + margin, coords[1] + margin, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)
    grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float32)
    if not occluders:  # background only: valid wherever the sample point is inside the previous frame
        flow = np.stack((coords[0] - grid_x, coords[1] - grid_y))
        valid = (coords[0] >= 0) & (coords[0] <= width - 1) & (coords[1] >= 0) & (coords[1] <= height - 1)
        return previous, current, flow, valid

    layer_coords = [coords]
    alpha_before: list[np.ndarray] = []  # each occluder's alpha in the previous frame
    solid_now, clear_now = [np.ones((height, width), bool)], [np.zeros((height, width), bool)]
    top = np.zeros((height, width), np.intp)  # the layer each current pixel mostly shows
    for k, occ in enumerate(occluders, start=1):
        rgba = np.ascontiguousarray(occ.rgba, np.float32)
        ph, pw = rgba.shape[:2]
        x0, y0 = occ.top_left
        alpha = np.zeros((height, width), np.float32)
        ys, xs = slice(max(y0, 0), min(y0 + ph, height)), slice(max(x0, 0), min(x0 + pw, width))
        if ys.start < ys.stop and xs.start < xs.stop:
            patch = rgba[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0]
            alpha[ys, xs] = patch[..., 3]
            a = patch[..., 3:4]  # (1 - a) x + a y, exact where a is 0 or 1
            previous[ys, xs] = previous[ys, xs] * (1 - a) + patch[..., :3] * a
        alpha_before.append(alpha)
        layer = np.asarray(occ.coords, np.float32)
        px, py = layer[0] - x0, layer[1] - y0  # current pixels in patch coordinates
        sampled = cv2.remap(rgba, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        a = sampled[..., 3:4]
        current *= 1 - a
        current += sampled[..., :3] * a
        top[sampled[..., 3] >= 0.5] = k
        ring = np.pad(rgba[..., 3], 1)  # zero ring: taps just outside the patch read transparent
        taps = _Taps(px + 1, py + 1, pw + 2, ph + 2)
        solid_now.append(taps.read(_all_taps(ring >= 1, False), off=False))
        clear_now.append(taps.read(_all_taps(ring <= 0, True), off=True))
        layer_coords.append(layer)

    shown = [top == k for k in range(len(layer_coords))]
    target = coords.copy()
    for k in range(1, len(layer_coords)):
        np.copyto(target, layer_coords[k], where=shown[k])
    flow = target - np.stack((grid_x, grid_y))
    clear_before = [a <= 0 for a in alpha_before]
    pure = np.zeros((height, width), bool)
    for k in np.flatnonzero(np.bincount(top.ravel(), minlength=len(layer_coords))):
        pure_now = solid_now[k].copy()
        pure_before = np.ones((height, width), bool) if k == 0 else alpha_before[k - 1] >= 1
        for j in range(k + 1, len(layer_coords)):
            pure_now &= clear_now[j]
            pure_before &= clear_before[j - 1]
        layer = layer_coords[k]
        seen_before = _Taps(layer[0], layer[1], width, height).read(_all_taps(pure_before, True), off=False)
        pure |= shown[k] & pure_now & seen_before
    inside = (target[0] >= 0) & (target[0] <= width - 1) & (target[1] >= 0) & (target[1] <= height - 1)
    return previous, current, flow, pure & inside


def _as_hwc_float(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """(3, H, W) tensor (float in [0, 1] or uint8) or (H, W, 3) array -> (H, W, 3) float32 array."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().permute(1, 2, 0).numpy()
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image, (3, H, W) tensor or (H, W, 3) array; got shape {image.shape}")
    return np.ascontiguousarray(_unit_float(image))


def render_pair(
    source: torch.Tensor | np.ndarray,
    coords: torch.Tensor | np.ndarray,
    margin: int,
    occluders: Sequence[Occluder] = (),
) -> MotionPair:
    """One frame pair from explicit geometry: the building block of :func:`synthetic_batch`.

    ``source`` ((3, L, L) tensor or (L, L, 3) array) is the background canvas; the previous
    frame is its crop ``margin`` pixels in from the top and left, as large as ``coords``
    (2, h, w), which gives for each current pixel its position (x, y) in the previous frame
    (pixel grid + backward flow). Exposed so hand-made motions (a pure shift, a known
    occlusion) go through the same code as the random ones.
    """
    coords = np.ascontiguousarray(coords.numpy() if isinstance(coords, torch.Tensor) else coords, np.float32)
    previous, current, flow, valid = _render(_as_hwc_float(source), coords, margin, occluders)
    return MotionPair(
        torch.from_numpy(np.ascontiguousarray(previous.transpose(2, 0, 1))),
        torch.from_numpy(np.ascontiguousarray(current.transpose(2, 0, 1))),
        torch.from_numpy(flow),
        torch.from_numpy(valid[None].astype(np.float32)),
    )


def _background_coords(crop: int, motion: MotionConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Previous-frame positions (2, crop, crop) of the current pixels, and the translation drawn."""
    centre = (crop - 1) / 2
    corners = np.array([[0, 0], [crop - 1, 0], [crop - 1, crop - 1], [0, crop - 1]], np.float64)
    translation = rng.uniform(-motion.max_translation, motion.max_translation, size=2)
    angle = math.radians(rng.uniform(-motion.max_rotation, motion.max_rotation))
    scale = rng.uniform(*motion.scale)
    rotation = scale * np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = (corners - centre) @ rotation.T + centre + translation
    moved += rng.uniform(-motion.perspective, motion.perspective, size=(4, 2))
    homography = cv2.getPerspectiveTransform(corners.astype(np.float32), moved.astype(np.float32))
    ys, xs = np.mgrid[0:crop, 0:crop].astype(np.float64)
    mapped = homography @ np.stack((xs.ravel(), ys.ravel(), np.ones(crop * crop)))
    coords = (mapped[:2] / mapped[2]).reshape(2, crop, crop).astype(np.float32)
    if motion.elastic > 0:
        nodes = rng.uniform(-motion.elastic, motion.elastic, size=(motion.elastic_grid, motion.elastic_grid, 2))
        field = cv2.resize(nodes.astype(np.float32), (crop, crop), interpolation=cv2.INTER_CUBIC)
        coords += field.transpose(2, 0, 1)
    return coords, translation


def _occluder_mask(size: int, rng: np.random.Generator) -> np.ndarray:
    """An anti-aliased ellipse or star-shaped polygon filling most of a size x size square (float 0..1)."""
    mask = np.zeros((size, size), np.uint8)
    shift = 4  # sub-pixel vertex precision: coordinates in 1/16 px
    centre = (size - 1) / 2
    reach = size / 2 - 2  # keep the soft edge inside the patch so its colours are real
    if rng.random() < 0.5:
        axes = rng.uniform(0.55, 1.0, size=2) * reach
        cv2.ellipse(mask, (round(centre * 16), round(centre * 16)), (round(axes[0] * 16), round(axes[1] * 16)),
                    rng.uniform(0, 180), 0, 360, 255, -1, cv2.LINE_AA, shift)
    else:
        count = int(rng.integers(3, 9))
        angles = np.sort(rng.uniform(0, 2 * np.pi, size=count))
        radii = rng.uniform(0.5, 1.0, size=count) * reach
        points = np.stack((centre + radii * np.cos(angles), centre + radii * np.sin(angles)), axis=1)
        cv2.fillPoly(mask, [np.round(points * 16).astype(np.int32)], 255, cv2.LINE_AA, shift)
    return mask.astype(np.float32) / 255.0


def _random_occluder(
    pool: Sequence[np.ndarray], rng: np.random.Generator, crop: int, zoom: float,
    background_shift: np.ndarray, motion: MotionConfig,
) -> Occluder:
    """A patch of a random pool image, at the background's zoom, moving differently from it."""
    side = max(4, round(rng.uniform(*motion.occluder_size) * crop))
    donor = pool[int(rng.integers(len(pool)))]
    rgb = _unit_float(_resize(_window(donor, side * zoom, rng), side, side))
    rgba = np.concatenate((rgb, _occluder_mask(side, rng)[..., None]), axis=2)
    top_left = np.round(rng.uniform(0, crop - 1, size=2) - (side - 1) / 2).astype(int)
    centre_before = top_left + (side - 1) / 2
    direction = rng.uniform(0, 2 * np.pi)
    offset = rng.uniform(*motion.occluder_motion) * np.array([math.cos(direction), math.sin(direction)])
    centre_now = centre_before - (background_shift + offset)  # its flow at the centre: shift + offset
    angle = math.radians(rng.uniform(-motion.occluder_rotation, motion.occluder_rotation))
    scale = rng.uniform(*motion.occluder_scale)
    cos, sin = scale * math.cos(angle), scale * math.sin(angle)
    ys, xs = np.mgrid[0:crop, 0:crop].astype(np.float32)
    dx, dy = xs - centre_now[0], ys - centre_now[1]
    coords = np.stack((centre_before[0] + cos * dx - sin * dy, centre_before[1] + sin * dx + cos * dy)).astype(np.float32)
    return Occluder(rgba, (int(top_left[0]), int(top_left[1])), coords)


def _synthesize(
    sources: Sequence[np.ndarray],
    pool: Sequence[np.ndarray],
    rng: np.random.Generator,
    crop: int,
    scale: tuple[float, float],
    flip: bool,
    motion: MotionConfig,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    batch = len(sources)
    margin = motion.margin(crop)
    size = crop + 2 * margin
    previous = np.empty((batch, crop, crop, 3), np.float32)
    current = np.empty_like(previous)
    flow = np.empty((batch, 2, crop, crop), np.float32)
    valid = np.empty((batch, 1, crop, crop), np.float32)
    for b, image in enumerate(sources):
        # A source wider than the crop by the margin, at the zoom a plain crop would have.
        source, zoom = _cut(image, rng, size, scale, flip, window_scale=size / crop)
        coords, shift = _background_coords(crop, motion, rng)
        count = 0
        if motion.max_occluders > 0 and rng.random() < motion.occluder_prob:
            count = int(rng.integers(1, motion.max_occluders + 1))
        occluders = [_random_occluder(pool, rng, crop, zoom, shift, motion) for _ in range(count)]
        previous[b], current[b], flow[b], valid[b, 0] = _render(_unit_float(source), coords, margin, occluders)
    return (torch.from_numpy(np.ascontiguousarray(previous.transpose(0, 3, 1, 2))),
            torch.from_numpy(np.ascontiguousarray(current.transpose(0, 3, 1, 2))),
            torch.from_numpy(flow), torch.from_numpy(valid))


def _unit_float(image: np.ndarray) -> np.ndarray:
    """uint8 -> float32 in [0, 1]; float images pass through as float32."""
    if image.dtype == np.uint8:
        return np.divide(image, np.float32(255), dtype=np.float32)
    return image.astype(np.float32, copy=False)


def synthetic_batch(
    bank: ImageCrops,
    batch_size: int,
    rng: np.random.Generator,
    motion: MotionConfig | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A batch of synthetic frame pairs from the photos in ``bank``, at ``bank.crop`` pixels.

    Returns ``(previous, current, flow, valid)``: (B, 3, c, c), (B, 3, c, c), (B, 2, c, c),
    (B, 1, c, c), float32, contiguous, on the CPU. Backgrounds and occluder patches come from
    the bank (occluders from any of its images) with its scale jitter and flips; deterministic
    for a given generator state. Runs on the calling thread with OpenCV and NumPy only.
    """
    motion = motion or MotionConfig()
    sources = [bank.images[i] for i in rng.integers(len(bank.images), size=batch_size)]
    return _synthesize(sources, bank.images, rng, bank.crop, bank.scale, bank.flip, motion)


def synthetic_pair(
    image: torch.Tensor | np.ndarray,
    rng: np.random.Generator,
    crop: int = 128,
    motion: MotionConfig | None = None,
    *,
    scale: tuple[float, float] = (0.5, 1.0),
    flip: bool = True,
) -> MotionPair:
    """One synthetic pair cut from ``image``: a (3, H, W) tensor (float in [0, 1] or uint8) or an
    (H, W, 3) array. Occluder patches come from the same image. See :func:`synthetic_batch`."""
    array = image.detach().cpu().permute(1, 2, 0).numpy() if isinstance(image, torch.Tensor) else image
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"synthetic_pair: expected an RGB image; got shape {tuple(image.shape)}")
    array = np.ascontiguousarray(array if array.dtype == np.uint8 else array.astype(np.float32))
    if min(array.shape[:2]) < crop:
        array = _fit_short_side(array, crop, crop)
    previous, current, flow, valid = _synthesize([array], [array], rng, int(crop), scale, flip, motion or MotionConfig())
    return MotionPair(previous[0], current[0], flow[0], valid[0])


# -- real video -----------------------------------------------------------------------------------

def _flows_to_tensor(flows: np.ndarray) -> torch.Tensor:
    """(N, H, W, 2) OpenCV flows -> contiguous (N, 2, H, W) float32."""
    return torch.from_numpy(np.ascontiguousarray(flows.transpose(0, 3, 1, 2), dtype=np.float32))


@dataclass
class _FramePair:
    previous: int  # index into VideoPairs.frames
    current: int
    flow: np.ndarray  # (H, W, 2) float16 backward flow (current -> previous)
    valid: np.ndarray  # (H, W) bool


def _keep_indices(total: int | None, max_frames: int, run: int) -> list[int] | None:
    """Frame indices to keep: all, or short runs of consecutive frames spread over the video."""
    if total is None or total <= max_frames:
        return None
    runs = max(1, max_frames // run)
    starts = np.round(np.linspace(0, total - run, runs)).astype(int)
    return sorted({int(s + i) for s in starts for i in range(run)})


class VideoPairs:
    """Real consecutive frame pairs with estimated backward flow and a validity mask.

    Reads video files (PyAV) and folders of frames (natural order), keeps at most
    ``max_frames_per_video`` frames of each (all of a short one, else runs of ``run``
    consecutive frames spread over it), downscaled so the short side is at most ``short_side``.
    Flow both ways comes from OpenCV DIS (medium preset, on grey) once at load time; a pixel is
    valid where :func:`vidgan.ops.consistency` of the backward flow against the forward one is at
    least 0.5. Pairs with less than ``min_valid`` valid pixels (scene cuts, fades) are dropped
    and counted in ``dropped``; unreadable videos are skipped with a warning (``skipped``).
    Flow runs on ``threads`` threads (default: up to 8); results do not depend on the count.
    Memory: about 1 MB per pair at the default 256 px short side (flow kept as float16).
    """

    def __init__(
        self,
        paths: PathLike | Iterable[PathLike],
        crop: int = 128,
        *,
        max_frames_per_video: int = 120,
        short_side: int = 256,
        run: int = 4,
        min_valid: float = 0.3,
        flip: bool = True,
        threads: int | None = None,
    ) -> None:
        _check_crop(crop, short_side)
        if max_frames_per_video < 2 or run < 2:
            raise TrainingDataError("max_frames_per_video and run must both be at least 2")
        self.crop, self.short_side, self.flip, self.min_valid = int(crop), short_side, flip, min_valid
        self.frames: list[np.ndarray] = []
        self.pairs: list[_FramePair] = []
        self.skipped_paths: list[Path] = []
        self.dropped = 0
        self._local = threading.local()
        sequences = find_sequences(paths)
        with ThreadPoolExecutor(threads or min(8, os.cpu_count() or 1)) as pool:
            for sequence in sequences:
                frames = self._read(sequence, max_frames_per_video, run)
                if frames is None:
                    self.skipped_paths.append(sequence)
                    continue
                self._add(frames, pool)
        if not self.pairs:
            raise TrainingDataError(
                f"no usable consecutive frame pairs in {', '.join(str(p) for p in _as_paths(paths))}")

    @property
    def skipped(self) -> int:
        """Videos or frame folders that could not be read."""
        return len(self.skipped_paths)

    def __len__(self) -> int:
        return len(self.pairs)

    def _fit(self, image: np.ndarray) -> np.ndarray:
        return _fit_short_side(image, self.short_side, self.crop)

    def _read(self, path: Path, max_frames: int, run: int) -> list[np.ndarray | None] | None:
        """Kept frames by index (None for frames not kept or unreadable); None if nothing decoded."""
        if path.is_dir():
            files = sorted((p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                           key=_natural_key)
            keep = _keep_indices(len(files), max_frames, run)
            wanted = set(range(len(files))) if keep is None else set(keep)
            frames: list[np.ndarray | None] = [None] * len(files)
            for index in sorted(wanted):
                image = read_image(files[index])
                if image is None:
                    log.warning("skipping unreadable frame: %s", files[index])
                    continue
                frames[index] = self._fit(image)
            if sum(f is not None for f in frames) < 2:
                log.warning("skipping %s: fewer than two readable frames", path)
                return None
            return frames
        return self._decode(path, max_frames, run)

    def _decode(self, path: Path, max_frames: int, run: int) -> list[np.ndarray | None] | None:
        import av

        frames: list[np.ndarray | None] = []
        try:
            with av.open(str(path), metadata_errors="replace") as container:
                if not container.streams.video:
                    log.warning("skipping %s: no video stream", path)
                    return None
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                keep = _keep_indices(stream.frames or None, max_frames, run)
                wanted = set(range(max_frames)) if keep is None else set(keep)
                last = max(wanted)
                try:
                    for index, frame in enumerate(container.decode(stream)):
                        if index > last:
                            break
                        frames.append(self._fit(frame.to_ndarray(format="rgb24")) if index in wanted else None)
                except av.error.FFmpegError as exc:  # damaged tail: keep what decoded
                    log.warning("%s: decoding stopped at frame %d (%s)", path, len(frames), exc)
        except av.error.FFmpegError as exc:
            log.warning("skipping unreadable video %s: %s", path, exc)
            return None
        if sum(f is not None for f in frames) < 2:
            log.warning("skipping %s: fewer than two decodable frames", path)
            return None
        return frames

    def _flows(self, previous: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(backward current -> previous, forward previous -> current) DIS flows of two grey frames."""
        dis = getattr(self._local, "dis", None)
        if dis is None:  # one instance per thread: DIS keeps per-call state
            dis = self._local.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        return dis.calc(current, previous, None), dis.calc(previous, current, None)

    def _add(self, frames: list[np.ndarray | None], pool: ThreadPoolExecutor, chunk: int = 32) -> None:
        """Estimate flow for every consecutive kept pair of one sequence and keep the good ones.

        Works ``chunk`` pairs at a time so the float flows of a long video never sit in memory at once.
        """
        from vidgan import ops

        starts = [i for i in range(len(frames) - 1) if frames[i] is not None and frames[i + 1] is not None
                  and frames[i].shape == frames[i + 1].shape]
        index_of: dict[int, int] = {}
        for first in range(0, len(starts), chunk):
            part = starts[first:first + chunk]
            grey = {i: cv2.cvtColor(frames[i], cv2.COLOR_RGB2GRAY) for i in {*part, *(s + 1 for s in part)}}
            flows = list(pool.map(lambda i: self._flows(grey[i], grey[i + 1]), part))
            backward = np.stack([b for b, _ in flows])  # current -> previous
            forward = np.stack([f for _, f in flows])
            confidence = ops.consistency(_flows_to_tensor(backward), _flows_to_tensor(forward))[:, 0].numpy()
            for j, start in enumerate(part):
                valid = confidence[j] >= 0.5
                if valid.mean() < self.min_valid:
                    self.dropped += 1
                    continue
                for i in (start, start + 1):
                    if i not in index_of:
                        index_of[i] = len(self.frames)
                        self.frames.append(frames[i])
                self.pairs.append(_FramePair(index_of[start], index_of[start + 1],
                                             backward[j].astype(np.float16), valid))

    def pair(self, index: int) -> MotionPair:
        """Pair ``index`` at full resident size (for inspection and tests)."""
        pair = self.pairs[index]
        previous = _to_batch_tensor(self.frames[pair.previous][None])[0]
        current = _to_batch_tensor(self.frames[pair.current][None])[0]
        flow = torch.from_numpy(np.ascontiguousarray(pair.flow.transpose(2, 0, 1), dtype=np.float32))
        valid = torch.from_numpy(pair.valid[None].astype(np.float32))
        return MotionPair(previous, current, flow, valid)

    def sample_batch(self, batch_size: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Random crops of random pairs: ``(previous, current, flow, valid)`` like :func:`synthetic_batch`.

        Crops are cut at the resident scale (no zoom, since zooming would rescale the flow
        estimate's errors too); flips negate dx. ``valid`` also excludes pixels whose flow leaves
        the crop.
        """
        c = self.crop
        previous = np.empty((batch_size, c, c, 3), np.uint8)
        current = np.empty_like(previous)
        flow = np.empty((batch_size, c, c, 2), np.float32)
        valid = np.empty((batch_size, c, c), bool)
        for b, index in enumerate(rng.integers(len(self.pairs), size=batch_size)):
            pair = self.pairs[index]
            height, width = pair.valid.shape
            y0, x0 = int(rng.integers(0, height - c + 1)), int(rng.integers(0, width - c + 1))
            rows = slice(y0, y0 + c)
            cols = slice(x0 + c - 1, x0 - 1 if x0 else None, -1) if self.flip and rng.random() < 0.5 else slice(x0, x0 + c)
            previous[b] = self.frames[pair.previous][rows, cols]
            current[b] = self.frames[pair.current][rows, cols]
            flow[b] = pair.flow[rows, cols]
            valid[b] = pair.valid[rows, cols]
            if cols.step == -1:  # mirrored: motion to the right is now to the left
                flow[b, ..., 0] *= -1
        xs = np.arange(c, dtype=np.float32)
        tx = xs[None, None, :] + flow[..., 0]
        ty = xs[None, :, None] + flow[..., 1]
        valid &= (tx >= 0) & (tx <= c - 1) & (ty >= 0) & (ty <= c - 1)
        flow_t = torch.from_numpy(np.ascontiguousarray(flow.transpose(0, 3, 1, 2)))
        valid_t = torch.from_numpy(valid[:, None].astype(np.float32))
        return _to_batch_tensor(previous), _to_batch_tensor(current), flow_t, valid_t


# -- overlap with the accelerator -----------------------------------------------------------------

class Prefetcher(Generic[T]):
    """Makes batches ahead on one background thread, so CPU data work overlaps GPU compute.

    ``make(rng)`` is called repeatedly with a generator that only this thread uses, so the
    sequence of batches is exactly that of calling ``make(rng)`` in a loop: deterministic. OpenCV
    and NumPy release the GIL in the heavy parts. Worth it with an accelerator; on a CPU-only
    machine the thread competes with training for the same cores. An exception in ``make`` is
    raised by the next ``next()``. Use as a context manager or call :meth:`close`.
    """

    def __init__(self, make: Callable[[np.random.Generator], T], rng: np.random.Generator, depth: int = 2) -> None:
        self._make, self._rng = make, rng
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vidgan-prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                item: tuple[bool, object] = (True, self._make(self._rng))
            except BaseException as exc:  # handed to the consumer, which re-raises it
                item = (False, exc)
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if not item[0]:
                return

    def __iter__(self) -> Prefetcher[T]:
        return self

    def __next__(self) -> T:
        if self._stop.is_set():
            raise StopIteration
        ok, value = self._queue.get()
        if not ok:
            self.close()
            raise value  # type: ignore[misc]
        return value  # type: ignore[return-value]

    def close(self) -> None:
        """Stop the thread (it finishes the batch in hand) and drop what was made ahead."""
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)

    def __enter__(self) -> Prefetcher[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
