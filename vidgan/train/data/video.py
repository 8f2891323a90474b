"""Real consecutive frame pairs from videos and frame folders, with DIS flow and a validity mask.

Same convention as :mod:`vidgan.train.data.motion`: backward flow from the current frame to the
previous one, in pixels.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from vidgan.errors import TrainingDataError
from vidgan.io.images import fit_short_side, try_read_image
from vidgan.models.flow import dense_flow, thread_dis
from vidgan.train.data.files import IMAGE_SUFFIXES, PathLike, as_paths, find_sequences, natural_key
from vidgan.train.data.images import check_crop, to_batch_tensor
from vidgan.train.data.motion import MotionPair

log = logging.getLogger("vidgan")


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
        check_crop(crop, short_side)
        if max_frames_per_video < 2 or run < 2:
            raise TrainingDataError("max_frames_per_video and run must both be at least 2")
        self.crop, self.short_side, self.flip, self.min_valid = int(crop), short_side, flip, min_valid
        self.frames: list[np.ndarray] = []
        self.pairs: list[_FramePair] = []
        self.skipped_paths: list[Path] = []
        self.dropped = 0
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
                f"no usable consecutive frame pairs in {', '.join(str(p) for p in as_paths(paths))}")

    @property
    def skipped(self) -> int:
        """Videos or frame folders that could not be read."""
        return len(self.skipped_paths)

    def __len__(self) -> int:
        return len(self.pairs)

    def _fit(self, image: np.ndarray) -> np.ndarray:
        return fit_short_side(image, self.short_side, min_side=self.crop)

    def _read(self, path: Path, max_frames: int, run: int) -> list[np.ndarray | None] | None:
        """Kept frames by index (None for frames not kept or unreadable); None if nothing decoded."""
        if path.is_dir():
            files = sorted((p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                           key=natural_key)
            keep = _keep_indices(len(files), max_frames, run)
            wanted = set(range(len(files))) if keep is None else set(keep)
            frames: list[np.ndarray | None] = [None] * len(files)
            for index in sorted(wanted):
                image = try_read_image(files[index])
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
        dis = thread_dis("medium")  # one instance per thread: DIS keeps per-call state
        return dense_flow(dis, current, previous), dense_flow(dis, previous, current)

    def _add(self, frames: list[np.ndarray | None], pool: ThreadPoolExecutor, chunk: int = 32) -> None:
        """Estimate flow for every consecutive kept pair of one sequence and keep the good ones.

        Works ``chunk`` pairs at a time so the float flows of a long video never sit in memory at once.
        """
        from vidgan import ops

        kept = {i: frame for i, frame in enumerate(frames) if frame is not None}
        starts = [i for i in range(len(frames) - 1) if i in kept and i + 1 in kept
                  and kept[i].shape == kept[i + 1].shape]
        index_of: dict[int, int] = {}
        for first in range(0, len(starts), chunk):
            part = starts[first:first + chunk]
            grey = {i: cv2.cvtColor(kept[i], cv2.COLOR_RGB2GRAY) for i in {*part, *(s + 1 for s in part)}}
            flows = list(pool.map(lambda i, grey=grey: self._flows(grey[i], grey[i + 1]), part))
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
                        self.frames.append(kept[i])
                self.pairs.append(_FramePair(index_of[start], index_of[start + 1],
                                             backward[j].astype(np.float16), valid))

    def pair(self, index: int) -> MotionPair:
        """Pair ``index`` at full resident size (for inspection and tests)."""
        pair = self.pairs[index]
        previous = to_batch_tensor(self.frames[pair.previous][None])[0]
        current = to_batch_tensor(self.frames[pair.current][None])[0]
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
        return to_batch_tensor(previous), to_batch_tensor(current), flow_t, valid_t
