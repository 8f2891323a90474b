"""Temporal warping error E_warp (Lai et al., ECCV 2018): how much a stylized video flickers.

Flows and occlusion masks come from the original video only (OpenCV DIS, :mod:`vidgan.models.flow`),
so the stylized video is judged by the motion it should have followed; the original's own E_warp
is the floor set by flow errors, noise and compression. See docs/eval.md.

Convention:
    frames as read: (H, W, 3) uint8 RGB on the host. Arithmetic: float32 RGB in [0, 1].
    flows: (N, 2, H, W) float32 in pixels, channel 0 = dx, 1 = dy, the *backward* flow of
    :mod:`vidgan.ops` (``out[y, x] = image[y + dy, x + dx]``); masks (N, 1, H, W).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from vidgan.errors import EvalInputError, FrameMismatchError
from vidgan.io.frames import iter_frames
from vidgan.models.flow import DIS_PRESETS, DisPreset, create_dis, dense_flow
from vidgan.ops import reference
from vidgan.ops.reference import MB_BIAS, MB_RATIO, OCC_BIAS, OCC_RATIO

__all__ = [
    "GOAL_RATIO",
    "PAPER_FACTOR",
    "TemporalReport",
    "WarpError",
    "WarpErrorResult",
    "cut_pairs",
    "masked_warp_error",
    "valid_mask",
    "warping_error",
    "warping_error_frames",
]

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
    the duration of the call (the process-wide setting is restored afterwards). The default DIS
    preset, ``medium``, takes about 11 ms per 640x272 flow on 2 cores.
    """
    if preset not in DIS_PRESETS:
        raise EvalInputError(f"unknown DIS preset {preset!r}; choose one of {', '.join(DIS_PRESETS)}")
    dis = create_dis(preset)

    def flows(gray: np.ndarray, previous_gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return dense_flow(dis, gray, previous_gray), dense_flow(dis, previous_gray, gray)

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
    originals = iter_frames(original, max_frames=max_frames, error=EvalInputError)
    stylizeds = iter_frames(stylized, max_frames=max_frames, error=EvalInputError)
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
