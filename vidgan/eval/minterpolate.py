"""FFmpeg's ``minterpolate``: the motion-compensated interpolator everyone already has, as a reference row.

Why here: ``vidgan eval interp`` and ``python -m vidgan.bench.interpolate`` both put vidgan's models
next to it, with the same settings (block matching both ways, overlapped-block compensation,
variable-size blocks; scene detection off, so it always interpolates). The ``ffmpeg`` binary is
run as a user would run it: raw RGB frames in, raw RGB frames out, through pipes.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np

from vidgan.errors import VidganError

__all__ = ["MINTERPOLATE_OPTIONS", "NAME", "available", "middle_frame", "minterpolate_filter"]

#: The row's name in tables and ``--model`` lists.
NAME = "minterpolate"
#: minterpolate's settings in every comparison vidgan reports.
MINTERPOLATE_OPTIONS = "mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1:scd=none"


def available() -> bool:
    """True when an ``ffmpeg`` binary is on PATH."""
    return shutil.which("ffmpeg") is not None


def minterpolate_filter(fps: int | str) -> str:
    """The ``-vf`` value that interpolates to ``fps`` with :data:`MINTERPOLATE_OPTIONS`."""
    return f"minterpolate=fps={fps}:{MINTERPOLATE_OPTIONS}"


def middle_frame(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB frame halfway between two frames, made by the ``ffmpeg`` CLI's minterpolate.

    The pair is fed at 1 fps and doubled to 2 fps; the last frame is given twice, since the filter
    emits an in-between frame only once it has seen the frame after the pair.
    """
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise VidganError("minterpolate needs the ffmpeg binary on PATH")
    if first.shape != last.shape or first.ndim != 3 or first.shape[2] != 3:
        raise VidganError(f"minterpolate: frames must be two (H, W, 3) images of one size; got {first.shape} "
                          f"and {last.shape}")
    height, width = first.shape[:2]
    frames = b"".join(np.ascontiguousarray(f, dtype=np.uint8).tobytes() for f in (first, last, last))
    command = [ffmpeg, "-nostdin", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
               "-s", f"{width}x{height}", "-r", "1", "-i", "-", "-vf", minterpolate_filter(2),
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    run = subprocess.run(command, input=frames, capture_output=True, check=False)
    size = height * width * 3
    if run.returncode != 0 or len(run.stdout) < 2 * size:
        reason = run.stderr.decode(errors="replace").strip().splitlines()
        raise VidganError(f"ffmpeg minterpolate failed on a {width}x{height} pair: "
                          f"{reason[-1] if reason else 'no frames out'}")
    return np.frombuffer(run.stdout[size:2 * size], dtype=np.uint8).reshape(height, width, 3).copy()
