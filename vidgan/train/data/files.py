"""Where training images and clips are: folders searched recursively, in a fixed natural order.

A typo in a folder name fails here, before any decoding or training starts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from vidgan.errors import TrainingDataError
from vidgan.io.images import IMAGE_SUFFIXES

PathLike = str | os.PathLike[str]

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".mts",
                  ".flv", ".wmv", ".nut", ".y4m", ".gif")


def as_paths(paths: PathLike | Iterable[PathLike]) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    return [Path(p) for p in paths]


def natural_key(path: Path) -> list:
    """Sort ``frame_2`` before ``frame_10``: digit runs compare as numbers."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.as_posix())]


def visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def find_images(folders: PathLike | Iterable[PathLike]) -> list[Path]:
    """Every image (jpg, jpeg, png, bmp, webp) under ``folders``, recursively, in a fixed order.

    A folder contributes its files in natural path order (hidden files skipped), folders in the
    order given, duplicates once. A path may also name one image file. A missing folder or one
    without images raises :class:`TrainingDataError`, so a typo fails before training starts.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    roots = as_paths(folders)
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
                            and p.is_file() and visible(p, root)), key=natural_key)
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
    roots = as_paths(paths)
    if not roots:
        raise TrainingDataError("no video paths given")
    for root in roots:
        if not root.exists():
            raise TrainingDataError(f"video path not found: {root}")
        if root.is_file():
            found.append(root)
            continue
        before = len(found)
        folders = [root, *sorted((p for p in root.rglob("*") if p.is_dir() and visible(p, root)), key=natural_key)]
        for folder in folders:
            files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
            if sum(p.suffix.lower() in IMAGE_SUFFIXES for p in files) >= 2:
                found.append(folder)
            found.extend(sorted((p for p in files if p.suffix.lower() in VIDEO_SUFFIXES), key=natural_key))
        if len(found) == before:
            raise TrainingDataError(f"no videos or frame folders in: {root}")
    return found
