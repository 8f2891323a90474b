"""Quality metrics for stylized video: temporal warping error (E_warp) and a patch-statistics style distance (SWD).

Both work without pretrained networks, so they run anywhere vidgan runs and give the same numbers on
every machine for the same inputs and seed. See docs/eval.md for the definitions and conventions.

Convention:
    frames as read: (H, W, 3) uint8 RGB on the host. Arithmetic: float32 RGB in [0, 1].
    flows: (N, 2, H, W) float32 in pixels, channel 0 = dx, 1 = dy, the *backward* flow of
    :mod:`vidgan.ops` (``out[y, x] = image[y + dy, x + dx]``); masks (N, 1, H, W).
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import torch

from vidgan.errors import EvalInputError, FrameMismatchError, InputNotFoundError, UnsupportedInputError
from vidgan.frame import Frame
from vidgan.io.source import VideoSource
from vidgan.ops import reference
from vidgan.ops.reference import MB_BIAS, MB_RATIO, OCC_BIAS, OCC_RATIO

__all__ = [
    "DIS_PRESETS",
    "GOAL_RATIO",
    "PAPER_FACTOR",
    "EvalInputError",
    "FrameMismatchError",
    "StyleReport",
    "SwdSettings",
    "TemporalReport",
    "WarpError",
    "WarpErrorResult",
    "count_frames",
    "evenly_spaced",
    "iter_frames",
    "laplacian_pyramid",
    "list_images",
    "masked_warp_error",
    "patch_descriptors",
    "read_image",
    "sample_frames",
    "sliced_wasserstein",
    "style_distance",
    "valid_mask",
    "warping_error",
    "warping_error_frames",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


# -- reading frames -----------------------------------------------------------------------------
def list_images(folder: str | Path) -> list[Path]:
    """The image files of a folder (not recursive), sorted by name: the frame order of a frame folder."""
    folder = Path(folder)
    if not folder.exists():
        raise InputNotFoundError(f"input {folder} does not exist")
    if not folder.is_dir():
        raise EvalInputError(f"{folder} is not a folder of images")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise EvalInputError(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def read_image(path: str | Path) -> np.ndarray:
    """One image file as (H, W, 3) uint8 RGB (grey and 16-bit images are converted)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise UnsupportedInputError(f"cannot read image {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def iter_frames(path: str | Path, *, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """(H, W, 3) uint8 RGB frames, in order, of a video, an image sequence (``f/%05d.png``) or a folder of images.

    Videos are decoded by :class:`vidgan.io.source.VideoSource` (so colour matrix and range follow
    the stream's tags, as everywhere in vidgan); a damaged video raises once decoding stops.
    """
    if max_frames is not None and max_frames <= 0:
        return
    if os.path.isdir(path):
        for file in list_images(path)[:max_frames]:
            yield read_image(file)
        return
    source = VideoSource(str(path))
    decoded = 0
    try:
        for item in source.demux():
            if isinstance(item, Frame):
                yield item.to_rgb24()
                decoded += 1
                if max_frames is not None and decoded >= max_frames:
                    return
        source.raise_if_damaged(decoded)
    finally:
        source.close()


def count_frames(path: str | Path) -> int:
    """Number of frames of a video (its video packets, no decoding) or of a folder of images."""
    if os.path.isdir(path):
        return len(list_images(path))
    source = VideoSource(str(path))
    try:
        return sum(1 for packet in source.container.demux(source.video) if packet.size)
    finally:
        source.close()


def evenly_spaced(total: int, count: int) -> list[int]:
    """``count`` indices spread over ``range(total)`` from the first to the last (all of them if fewer)."""
    if total <= count:
        return list(range(total))
    if count <= 1:
        return [0][:count]
    return np.round(np.linspace(0, total - 1, count)).astype(int).tolist()


def sample_frames(path: str | Path, count: int) -> list[np.ndarray]:
    """Up to ``count`` frames spread evenly over a video or a folder of images (first and last included)."""
    if os.path.isdir(path):
        files = list_images(path)
        return [read_image(files[i]) for i in evenly_spaced(len(files), count)]
    wanted = set(evenly_spaced(count_frames(path), count))
    source = VideoSource(str(path))
    frames: list[np.ndarray] = []
    index = 0
    try:
        for item in source.demux():
            if not isinstance(item, Frame):
                continue
            if index in wanted:
                frames.append(item.to_rgb24())
            index += 1
            if index > max(wanted, default=-1):
                break
        else:
            source.raise_if_damaged(index)
    finally:
        source.close()
    if not frames:
        raise UnsupportedInputError(f"{path} contains no decodable video frames")
    return frames


# -- temporal warping error (Lai et al., ECCV 2018) ---------------------------------------------
#: OpenCV DIS presets by name; "medium" is the default (about 11 ms per 640x272 flow on 2 cores).
DIS_PRESETS: dict[str, int] = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
DisPreset = Literal["ultrafast", "fast", "medium"]

#: The paper's Eq. sums the squared error over the 3 channels of a pixel before dividing by the number
#: of valid pixels; the authors' released code divides by the number of valid values (pixels x 3).
PAPER_FACTOR = 3.0
#: Target for a stylizer: E_warp at most this many times the input video's own E_warp.
GOAL_RATIO = 3.0
#: Frame pairs warped and compared in one vectorised step (bounds memory: ~4 MB per 640x272 pair).
#: Warps use the plain-torch twin of ``vidgan.ops.warp`` (same maths) on one torch thread, while DIS runs
#: in a worker thread: on 2 cores the Numba kernels' OpenMP pool spin-waits beside torch's own OpenMP
#: runtime and slowed every small torch operation by up to 25x when the machine was busy.
PAIRS_PER_BATCH = 8
#: Frames read ahead of the scoring while their flows are computed in a worker thread.
FLOW_LOOKAHEAD = 4
#: A pair whose original E_t is this many times the median pair's (and above CUT_FLOOR) is a shot
#: change: the flow across it means nothing, so ``skip_cuts`` leaves it out of both means.
CUT_FACTOR = 20.0
CUT_FLOOR = 0.005


def valid_mask(flow_bw: torch.Tensor, flow_fw: torch.Tensor) -> torch.Tensor:
    """Pixels of frame t whose backward flow is trusted: (N, 1, H, W) float32, 1 = valid, 0 = occluded.

    ``flow_bw`` maps frame t to t-1, ``flow_fw`` maps t-1 to t. The hard rule of Sundaram et al.
    (ECCV 2010) as used by Ruder et al. (GCPR 2016) and Lai et al. (ECCV 2018), with vidgan's
    thresholds (:mod:`vidgan.ops.reference`). With ``w = flow_bw(x)`` and ``ŵ = flow_fw(x + w)``
    (bilinear, edge-clamped), x is invalid when

    - ``|w + ŵ|² > 0.01 (|w|² + |ŵ|²) + 0.5`` (forward-backward mismatch: occluded), or
    - ``|∇u|² + |∇v|² > 0.01 |w|² + 0.002`` on ``flow_bw`` (motion boundary; central differences,
      one-sided at the frame border), or
    - ``x + w`` leaves ``[0, W-1] x [0, H-1]``, or the flow is not finite.
    """
    flow_bw, flow_fw = flow_bw.float().contiguous(), flow_fw.float().contiguous()
    back, inside = reference.warp(flow_fw, flow_bw, border="edge")
    return _valid_from_warped(flow_bw, back, inside)


def _valid_from_warped(flow_bw: torch.Tensor, back: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """:func:`valid_mask` given the forward flow already warped by the backward one, and the inside mask."""
    bw_sq = flow_bw.square().sum(dim=1, keepdim=True)
    back_sq = back.square().sum(dim=1, keepdim=True)
    mismatch = (flow_bw + back).square().sum(dim=1, keepdim=True)
    consistent = mismatch <= OCC_RATIO * (bw_sq + back_sq) + OCC_BIAS
    smooth = _flow_gradient_energy(flow_bw) <= MB_RATIO * bw_sq + MB_BIAS
    finite = torch.isfinite(flow_bw).all(dim=1, keepdim=True)
    return (consistent & smooth & finite & (inside > 0.5)).float()


def _flow_gradient_energy(flow: torch.Tensor) -> torch.Tensor:
    """|∇u|² + |∇v|² as (N, 1, H, W): central differences inside, one-sided at the border."""
    height, width = flow.shape[-2:]
    energy = torch.zeros_like(flow[:, :1])
    dims = [d for d, size in ((2, height), (3, width)) if size > 1]
    if dims:
        for grad in torch.gradient(flow, dim=dims):
            energy += grad.square().sum(dim=1, keepdim=True)
    return energy


def masked_warp_error(current: torch.Tensor, warped_previous: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Per-pair E_t (N,) in the code convention: masked sum of squared differences / (C x valid pixels).

    A pair without a single valid pixel divides by all C x H x W values instead (giving 0), as the
    authors' released code does.
    """
    channels, height, width = current.shape[1:]
    squared = (current.float() - warped_previous.float()).square_()
    masked_sum = (squared * valid).sum(dim=(1, 2, 3), dtype=torch.float64)
    valid_values = channels * valid.sum(dim=(1, 2, 3), dtype=torch.float64)
    all_values = torch.full_like(valid_values, channels * height * width)
    return masked_sum / torch.where(valid_values > 0, valid_values, all_values)


@dataclass(frozen=True)
class WarpError:
    """E_warp of one video, judged with the original video's flows and occlusion masks."""

    ewarp: float
    """Mean over frame pairs of E_t, code convention (per valid value, pixels x 3)."""
    per_pair: tuple[float, ...] = field(repr=False)

    @property
    def ewarp_paper(self) -> float:
        """The same in the paper's equation (channels summed per pixel): ``3 x ewarp``."""
        return PAPER_FACTOR * self.ewarp

    def to_dict(self, *, per_pair: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"ewarp": self.ewarp, "ewarp_paper": self.ewarp_paper}
        if per_pair:
            out["per_pair"] = list(self.per_pair)
        return out


@dataclass(frozen=True)
class WarpErrorResult:
    """What :func:`warping_error_frames` measures in one pass over two frame streams."""

    stylized: WarpError
    original: WarpError
    """The original against itself: the floor set by flow errors, noise and compression."""
    frames: int
    valid_fraction: float
    """Mean share of pixels judged non-occluded."""


class _PairScorer:
    """Scores consecutive frame pairs in batches, converting each frame to float once.

    Frames go into a preallocated (K+1, 8, H, W) buffer: original RGB and stylized RGB in [0, 1],
    then the forward flow from that frame to the next. Slots 0..K-1 are the previous frames of K
    pairs and 1..K the current ones, both contiguous views, so one warp by the backward flows moves
    both videos and the forward flows (for the occlusion test) at once. After scoring, the last frame
    moves to slot 0 and starts the next batch.
    """

    def __init__(self, height: int, width: int, pairs: int = PAIRS_PER_BATCH) -> None:
        self.frames = torch.empty(pairs + 1, 8, height, width)
        self.flow_bw = torch.empty(pairs, 2, height, width)
        self.filled = 0  # frames in the buffer
        self.stylized: list[float] = []
        self.original: list[float] = []
        self.valid: list[float] = []

    def add(self, original: np.ndarray, stylized: np.ndarray, flows: tuple[np.ndarray, np.ndarray] | None) -> None:
        """The next frame of both videos and the (backward, forward) flows, (H, W, 2), of the pair it ends."""
        slot = self.frames[self.filled]
        slot[:3].copy_(torch.from_numpy(original).permute(2, 0, 1))
        slot[3:6].copy_(torch.from_numpy(stylized).permute(2, 0, 1))
        slot[:6].mul_(1.0 / 255.0)
        self.filled += 1
        if flows is None:
            return
        pair = self.filled - 2
        self.flow_bw[pair].copy_(torch.from_numpy(flows[0]).permute(2, 0, 1))
        self.frames[pair, 6:].copy_(torch.from_numpy(flows[1]).permute(2, 0, 1))
        if self.filled == len(self.frames):
            self.flush()

    def flush(self) -> None:
        pairs = self.filled - 1
        if pairs < 1:
            return
        flow_bw = self.flow_bw[:pairs]
        warped, inside = reference.warp(self.frames[:pairs], flow_bw, border="edge")
        valid = _valid_from_warped(flow_bw, warped[:, 6:], inside)
        current = self.frames[1:pairs + 1]
        self.original += masked_warp_error(current[:, :3], warped[:, :3], valid).tolist()
        self.stylized += masked_warp_error(current[:, 3:6], warped[:, 3:6], valid).tolist()
        self.valid += valid.mean(dim=(1, 2, 3)).tolist()
        self.frames[0].copy_(self.frames[pairs])
        self.filled = 1


def _score_next(scorer: _PairScorer, waiting: deque[tuple[np.ndarray, np.ndarray, Future | None]]) -> None:
    frame_o, frame_s, pending = waiting.popleft()
    scorer.add(frame_o, frame_s, None if pending is None else pending.result())


@contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    """Run torch on ``count`` threads (a process-wide setting) and restore the previous count afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def warping_error_frames(
    original: Iterable[np.ndarray],
    stylized: Iterable[np.ndarray],
    *,
    preset: DisPreset = "medium",
    names: tuple[str, str] = ("the original", "the stylized video"),
) -> WarpErrorResult:
    """E_warp of ``stylized`` and of ``original`` itself, with flows and occlusions from ``original``.

    For each pair (t-1, t): DIS flow on the grey original frames, backward (t -> t-1) and forward
    (t-1 -> t); :func:`valid_mask` from the two; ``O_{t-1}`` warped to t by the backward flow
    (bilinear, edge-clamped); E_t by :func:`masked_warp_error`. E_warp is the mean of E_t. Frames are
    streamed, so memory holds one batch of pairs whatever the length; both streams must have the
    same frame count and frame size. DIS runs in a worker thread; torch is held to one thread for
    the duration of the call (the process-wide setting is restored afterwards).
    """
    if preset not in DIS_PRESETS:
        raise EvalInputError(f"unknown DIS preset {preset!r}; choose one of {', '.join(DIS_PRESETS)}")
    dis = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])

    def flows(gray: np.ndarray, previous_gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return dis.calc(gray, previous_gray, None), dis.calc(previous_gray, gray, None)

    originals, stylizeds = iter(original), iter(stylized)
    scorer: _PairScorer | None = None
    previous_gray: np.ndarray | None = None
    waiting: deque[tuple[np.ndarray, np.ndarray, Future | None]] = deque()
    frames = 0
    # DIS runs in a worker thread, FLOW_LOOKAHEAD frames ahead of the scoring in this one.
    with ThreadPoolExecutor(1, thread_name_prefix="vidgan-flow") as worker, _torch_threads(1):
        while True:
            frame_o, frame_s = next(originals, None), next(stylizeds, None)
            if frame_o is None or frame_s is None:
                if frame_o is not None or frame_s is not None:
                    left_o = frames + (frame_o is not None) + sum(1 for _ in originals)
                    left_s = frames + (frame_s is not None) + sum(1 for _ in stylizeds)
                    raise FrameMismatchError(
                        f"{names[0]} has {left_o} frames but {names[1]} has {left_s}; E_warp compares them "
                        f"frame by frame (use --max-frames to compare only the first N)"
                    )
                break
            if scorer is None:
                scorer = _PairScorer(*frame_o.shape[:2])
            if frame_o.shape != frame_s.shape or frame_o.shape[:2] != scorer.frames.shape[2:]:
                shapes = f"{frame_o.shape[1]}x{frame_o.shape[0]} vs {frame_s.shape[1]}x{frame_s.shape[0]}"
                raise FrameMismatchError(f"frame {frames}: frame sizes differ ({shapes}) or change within a video")
            gray = cv2.cvtColor(frame_o, cv2.COLOR_RGB2GRAY)
            pending = None if previous_gray is None else worker.submit(flows, gray, previous_gray)
            waiting.append((frame_o, frame_s, pending))
            if len(waiting) > FLOW_LOOKAHEAD:
                _score_next(scorer, waiting)
            previous_gray = gray
            frames += 1
        if scorer is None or frames < 2:
            raise EvalInputError(f"{names[0]} has {frames} frame(s); E_warp needs at least 2")
        while waiting:
            _score_next(scorer, waiting)
        scorer.flush()
    return WarpErrorResult(
        stylized=WarpError(float(np.mean(scorer.stylized)), tuple(scorer.stylized)),
        original=WarpError(float(np.mean(scorer.original)), tuple(scorer.original)),
        frames=frames,
        valid_fraction=float(np.mean(scorer.valid)),
    )


@dataclass(frozen=True)
class TemporalReport:
    """Everything ``vidgan eval temporal`` reports."""

    original_path: str
    stylized_path: str
    frames: int
    size: tuple[int, int]
    """(width, height) of the original: flows, masks and errors are computed at this size."""
    stylized_size: tuple[int, int]
    resized: bool
    """True when the stylized frames were resized to the original's size."""
    preset: str
    valid_fraction: float
    stylized: WarpError
    original: WarpError
    seconds: float
    skipped_pairs: tuple[int, ...] = ()
    """Indices of pairs left out as shot changes (``skip_cuts``); empty otherwise."""

    @property
    def pairs(self) -> int:
        return self.frames - 1

    @property
    def ratio(self) -> float | None:
        """Stylized E_warp over the original's own; None when the original's is 0 (a still video)."""
        return self.stylized.ewarp / self.original.ewarp if self.original.ewarp > 0 else None

    @property
    def meets_goal(self) -> bool | None:
        return None if self.ratio is None else self.ratio <= GOAL_RATIO

    def to_dict(self, *, per_pair: bool = True) -> dict[str, Any]:
        return {
            "metric": "ewarp",
            "convention": "code: squared error averaged over valid values (pixels x 3), as in Lai et al.'s "
                          "released code; ewarp_paper = 3 x ewarp (the paper's equation sums the channels)",
            "original": self.original_path,
            "stylized": self.stylized_path,
            "frames": self.frames,
            "pairs": self.pairs,
            "size": list(self.size),
            "stylized_size": list(self.stylized_size),
            "resized": self.resized,
            "flow": f"OpenCV DIS, preset {self.preset}, on grey original frames",
            "valid_fraction": self.valid_fraction,
            "stylized_ewarp": self.stylized.to_dict(per_pair=per_pair),
            "original_ewarp": self.original.to_dict(per_pair=per_pair),
            "skipped_pairs": list(self.skipped_pairs),
            "ratio": self.ratio,
            "goal_ratio": GOAL_RATIO,
            "meets_goal": self.meets_goal,
            "seconds": self.seconds,
        }


#: Largest relative difference in aspect ratio between the stylized and the original frames that is
#: taken as a scaled copy (a stylizer rounding to a multiple of 4 or 8) rather than a crop.
ASPECT_TOLERANCE = 0.02


def _resized(frames: Iterator[np.ndarray], size: tuple[int, int]) -> Iterator[np.ndarray]:
    for frame in frames:
        shrink = frame.shape[1] > size[0] or frame.shape[0] > size[1]
        yield cv2.resize(frame, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def cut_pairs(original: WarpError) -> tuple[int, ...]:
    """Pairs whose original error marks a shot change (see :data:`CUT_FACTOR`)."""
    values = np.asarray(original.per_pair)
    threshold = max(CUT_FLOOR, CUT_FACTOR * float(np.median(values)))
    return tuple(int(i) for i in np.flatnonzero(values > threshold))


def _without(error: WarpError, skipped: tuple[int, ...]) -> WarpError:
    kept = [v for i, v in enumerate(error.per_pair) if i not in set(skipped)]
    return WarpError(float(np.mean(kept)), tuple(kept)) if kept else error


def _first(frames: Iterator[np.ndarray], path: str | Path) -> np.ndarray:
    first = next(frames, None)
    if first is None:
        raise EvalInputError(f"{path} has no frames")
    return first


def warping_error(
    original: str | Path,
    stylized: str | Path,
    *,
    max_frames: int | None = None,
    preset: DisPreset = "medium",
    skip_cuts: bool = False,
) -> TemporalReport:
    """E_warp of a stylized video against its original, and of the original against itself.

    Both inputs are videos, image sequences or frame folders with the same frame count (the first
    ``max_frames`` of each with ``max_frames``). Flow and occlusions always come from the original at
    its own size; stylized frames of another size but the same aspect ratio (within 2 %) are resized
    to it (area filter when shrinking, bilinear when enlarging), and the report says so. With
    ``skip_cuts``, pairs across a shot change of the original (:func:`cut_pairs`) are left out of
    both means: one such pair can outweigh a hundred ordinary ones.
    """
    started = time.perf_counter()
    originals = iter_frames(original, max_frames=max_frames)
    stylizeds = iter_frames(stylized, max_frames=max_frames)
    try:
        first_o, first_s = _first(originals, original), _first(stylizeds, stylized)
        size = (first_o.shape[1], first_o.shape[0])
        stylized_size = (first_s.shape[1], first_s.shape[0])
        resized = size != stylized_size
        if resized:
            aspect_o, aspect_s = size[0] / size[1], stylized_size[0] / stylized_size[1]
            if abs(aspect_s / aspect_o - 1) > ASPECT_TOLERANCE:
                raise FrameMismatchError(
                    f"{stylized} is {stylized_size[0]}x{stylized_size[1]} but {original} is {size[0]}x{size[1]}: "
                    f"another aspect ratio (cropped or padded?), so frames cannot be matched pixel to pixel"
                )
        stream_s: Iterator[np.ndarray] = _chain(first_s, stylizeds)
        if resized:
            stream_s = _resized(stream_s, size)
        result = warping_error_frames(
            _chain(first_o, originals), stream_s, preset=preset, names=(str(original), str(stylized))
        )
    finally:
        originals.close()
        stylizeds.close()
    skipped = cut_pairs(result.original) if skip_cuts else ()
    return TemporalReport(
        original_path=str(original), stylized_path=str(stylized), frames=result.frames, size=size,
        stylized_size=stylized_size, resized=resized, preset=preset, valid_fraction=result.valid_fraction,
        stylized=_without(result.stylized, skipped), original=_without(result.original, skipped),
        seconds=time.perf_counter() - started, skipped_pairs=skipped,
    )


def _chain(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    yield first
    yield from rest


# -- style distance: multi-scale sliced Wasserstein distance (Karras et al., ICLR 2018) ----------
@dataclass(frozen=True)
class SwdSettings:
    """Parameters of :func:`style_distance` (the defaults are what ``vidgan eval style`` uses)."""

    levels: int = 4
    """Laplacian pyramid levels: 3 band-pass levels and the low-pass residual (colour)."""
    patch_size: int = 7
    patches_per_image: int = 256
    """Random patch positions per image and level (uniform over all full-patch positions)."""
    directions: int = 128
    repeats: int = 4
    """Independent sets of ``directions`` random unit projections; SWD is their mean."""
    long_side: int = 512
    """Images larger than this are shrunk (area filter) so that strokes and textures compare at one scale."""
    max_frames: int = 16
    """Frames sampled evenly from each video or frame folder."""
    max_paintings: int = 64
    """Paintings sampled evenly (by name) from the style folder."""
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("levels", "patch_size", "patches_per_image", "directions", "repeats", "long_side",
                     "max_frames", "max_paintings"):
            if getattr(self, name) < 1:
                raise EvalInputError(f"style distance: {name} must be at least 1; got {getattr(self, name)}")


def laplacian_pyramid(image: np.ndarray, levels: int) -> list[np.ndarray]:
    """Band-pass levels, finest first, then the low-pass residual; they sum back to ``image`` exactly.

    Uses OpenCV's 5x5 binomial pyramid (``pyrDown``/``pyrUp``, reflect-101 borders); float32 in and out.
    """
    bands: list[np.ndarray] = []
    current = image.astype(np.float32, copy=False)
    for _ in range(levels - 1):
        smaller = cv2.pyrDown(current)
        bands.append(current - cv2.pyrUp(smaller, dstsize=(current.shape[1], current.shape[0])))
        current = smaller
    bands.append(current)
    return bands


def _prepare(image: np.ndarray, long_side: int) -> np.ndarray:
    """uint8 RGB -> float32 [0, 1], shrunk so its longer side is at most ``long_side``."""
    height, width = image.shape[:2]
    scale = long_side / max(height, width)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image.astype(np.float32) / 255.0


def patch_descriptors(
    images: Sequence[np.ndarray], *, settings: SwdSettings, rng: np.random.Generator, what: str = "an image"
) -> list[np.ndarray]:
    """Per pyramid level, (N, patch x patch x 3) raw patch descriptors (channel last) from every image.

    ``images`` are float32 RGB in [0, 1]. Each image gives ``patches_per_image`` patches per level at
    uniform random positions (drawn from ``rng``, image by image, level by level).
    """
    size = settings.patch_size
    per_level: list[list[np.ndarray]] = [[] for _ in range(settings.levels)]
    for image in images:
        for level, band in enumerate(laplacian_pyramid(image, settings.levels)):
            height, width = band.shape[:2]
            if height < size or width < size:
                low = size * 2 ** (settings.levels - 1)
                raise EvalInputError(
                    f"{what} is {image.shape[1]}x{image.shape[0]}: too small for {settings.levels} pyramid levels "
                    f"of {size}x{size} patches (needs about {low} pixels a side)"
                )
            windows = np.lib.stride_tricks.sliding_window_view(band, (size, size), axis=(0, 1))  # (h', w', 3, p, p)
            ys = rng.integers(0, height - size + 1, settings.patches_per_image)
            xs = rng.integers(0, width - size + 1, settings.patches_per_image)
            patches = windows[ys, xs].transpose(0, 2, 3, 1)  # (n, p, p, 3)
            per_level[level].append(patches.reshape(len(ys), -1))
    return [np.concatenate(level).astype(np.float32) for level in per_level]


def _normalise(descriptors: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    channels = len(mean)
    shaped = descriptors.reshape(len(descriptors), -1, channels)
    return ((shaped - mean) / std).reshape(len(descriptors), -1)


def _channel_stats(descriptors: np.ndarray, channels: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std over every patch and patch position of one level."""
    values = descriptors.reshape(-1, channels).astype(np.float64)
    return values.mean(axis=0).astype(np.float32), np.maximum(values.std(axis=0), 1e-6).astype(np.float32)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, directions: np.ndarray) -> float:
    """Mean over unit ``directions`` (D, K) of the 1-D Wasserstein-1 distance between projections of ``a`` and ``b``.

    ``a`` and ``b`` are (N, D) with the same N: sorted projections pair up the two empirical
    distributions, so W1 along one direction is the mean absolute difference of the sorted values.
    """
    if len(a) != len(b):
        raise ValueError(f"sliced_wasserstein: sets must be the same size; got {len(a)} and {len(b)}")
    projected_a = np.sort(a @ directions, axis=0)
    projected_b = np.sort(b @ directions, axis=0)
    return float(np.abs(projected_a - projected_b).mean(dtype=np.float64))


def _random_directions(dims: int, count: int, rng: np.random.Generator) -> np.ndarray:
    directions = rng.standard_normal((dims, count)).astype(np.float32)
    return directions / np.linalg.norm(directions, axis=0, keepdims=True)


def _subsample(descriptors: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    if len(descriptors) <= count:
        return descriptors
    return descriptors[np.sort(rng.choice(len(descriptors), count, replace=False))]


@dataclass(frozen=True)
class StyleDistance:
    """SWD of one image set against the paintings: per pyramid level (finest first) and their mean."""

    per_level: tuple[float, ...]
    images: int

    @property
    def mean(self) -> float:
        return float(np.mean(self.per_level))


@dataclass(frozen=True)
class StyleReport:
    """Everything ``vidgan eval style`` reports."""

    paintings_path: str
    output_path: str
    input_path: str | None
    paintings: int
    output: StyleDistance
    input: StyleDistance | None
    settings: SwdSettings
    seconds: float

    @property
    def ratio(self) -> float | None:
        """SWD(output) / SWD(input): below 1, the output's patch statistics moved toward the paintings."""
        if self.input is None or self.input.mean <= 0:
            return None
        return self.output.mean / self.input.mean

    def to_dict(self) -> dict[str, Any]:
        def distance(d: StyleDistance | None) -> dict[str, Any] | None:
            return None if d is None else {"swd": d.mean, "per_level": list(d.per_level), "images": d.images}

        return {
            "metric": "swd",
            "paintings": self.paintings_path,
            "output": self.output_path,
            "input": self.input_path,
            "painting_images": self.paintings,
            "output_swd": distance(self.output),
            "input_swd": distance(self.input),
            "ratio": self.ratio,
            "settings": asdict(self.settings),
            "seconds": self.seconds,
        }


def _style_images(path: str | Path, count: int, long_side: int) -> list[np.ndarray]:
    return [_prepare(frame, long_side) for frame in sample_frames(path, count)]


def style_distance(
    paintings: str | Path,
    output: str | Path,
    input: str | Path | None = None,  # noqa: A002 - the CLI's name for it
    *,
    settings: SwdSettings = SwdSettings(),
) -> StyleReport:
    """Multi-scale SWD of ``output`` (and ``input``) against a folder of paintings, after Karras et al. (2018).

    Per pyramid level: random 7x7 patches of every image; every set normalised by the *paintings'*
    per-channel mean and std at that level (so colour counts, unlike Karras's per-set normalisation);
    the larger set randomly subsampled to the smaller's size; SWD over ``repeats x directions`` random
    unit projections. Random streams are fixed by ``settings.seed`` and shared between output and
    input (same positions, projections and painting subsample), so identical inputs score identically.
    """
    started = time.perf_counter()
    if not os.path.isdir(paintings):
        if not os.path.exists(paintings):
            raise InputNotFoundError(f"paintings folder {paintings} does not exist")
        raise EvalInputError(f"{paintings} is not a folder of paintings")
    painting_images = _style_images(paintings, settings.max_paintings, settings.long_side)
    reference = patch_descriptors(painting_images, settings=settings, rng=np.random.default_rng([settings.seed, 0]),
                                  what=f"a painting in {paintings}")
    stats = [_channel_stats(level) for level in reference]
    reference = [_normalise(level, *stat) for level, stat in zip(reference, stats)]

    def distance(path: str | Path) -> StyleDistance:
        images = _style_images(path, settings.max_frames, settings.long_side)
        own = patch_descriptors(images, settings=settings, rng=np.random.default_rng([settings.seed, 1]),
                                what=f"a frame of {path}")
        per_level = []
        for level, (ref, mine, stat) in enumerate(zip(reference, own, stats)):
            mine = _normalise(mine, *stat)
            count = min(len(ref), len(mine))
            ref_part = _subsample(ref, count, np.random.default_rng([settings.seed, 2, level]))
            mine_part = _subsample(mine, count, np.random.default_rng([settings.seed, 3, level]))
            directions = _random_directions(ref.shape[1], settings.directions * settings.repeats,
                                            np.random.default_rng([settings.seed, 4, level]))
            per_level.append(sliced_wasserstein(ref_part, mine_part, directions))
        return StyleDistance(per_level=tuple(per_level), images=len(images))

    output_distance = distance(output)
    input_distance = distance(input) if input is not None else None
    return StyleReport(
        paintings_path=str(paintings), output_path=str(output), input_path=None if input is None else str(input),
        paintings=len(painting_images), output=output_distance, input=input_distance, settings=settings,
        seconds=time.perf_counter() - started,
    )
