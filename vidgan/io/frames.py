"""The frames of a video, image sequence or frame folder as RGB arrays: all of them, or a few spread evenly.

For the metrics and for training data, which read whole clips on the host rather than through a
pipeline. Videos are decoded by :class:`vidgan.io.source.VideoSource` and frame folders read with
:mod:`vidgan.io.images`, so frames are the same as everywhere in vidgan. Frames are (H, W, 3)
uint8 RGB. A folder that holds no readable frames raises ``error`` (the caller's kind: an
evaluation input, training data), :class:`~vidgan.errors.UnsupportedInputError` by default.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import numpy as np

from vidgan.errors import UnsupportedInputError, VidganError
from vidgan.frame import Frame
from vidgan.io.images import list_images, try_read_image
from vidgan.io.source import VideoSource

__all__ = ["count_frames", "evenly_spaced", "frame_files", "iter_frames", "read_frame", "sample_frames"]


ErrorKind = type[VidganError]


def frame_files(folder: str | Path, *, error: ErrorKind = UnsupportedInputError) -> list[Path]:
    """The images of a frame folder in frame order; a folder without images raises ``error``."""
    return list_images(folder, error=error)


def read_frame(file: Path, *, error: ErrorKind = UnsupportedInputError) -> np.ndarray:
    """One frame file; an unreadable one raises ``error``."""
    image = try_read_image(file)
    if image is None:
        raise error(f"cannot read image {file}")
    return image


def iter_frames(
    path: str | Path, *, max_frames: int | None = None, error: ErrorKind = UnsupportedInputError
) -> Generator[np.ndarray, None, None]:
    """(H, W, 3) uint8 RGB frames, in order, of a video, an image sequence (``f/%05d.png``) or a folder of images.

    Videos are decoded by :class:`vidgan.io.source.VideoSource` (so colour matrix and range follow
    the stream's tags, as everywhere in vidgan); a damaged video raises once decoding stops.
    """
    if max_frames is not None and max_frames <= 0:
        return
    if os.path.isdir(path):
        for file in frame_files(path, error=error)[:max_frames]:
            yield read_frame(file, error=error)
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


def count_frames(path: str | Path, *, error: ErrorKind = UnsupportedInputError) -> int:
    """Number of frames of a video (its video packets, no decoding) or of a folder of images."""
    if os.path.isdir(path):
        return len(frame_files(path, error=error))
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


def sample_frames(path: str | Path, count: int, *, error: ErrorKind = UnsupportedInputError) -> list[np.ndarray]:
    """Up to ``count`` frames spread evenly over a video or a folder of images (first and last included)."""
    if os.path.isdir(path):
        files = frame_files(path, error=error)
        return [read_frame(files[i], error=error) for i in evenly_spaced(len(files), count)]
    wanted = set(evenly_spaced(count_frames(path, error=error), count))
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

