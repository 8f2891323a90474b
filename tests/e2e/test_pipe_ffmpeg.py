"""``ffmpeg | vidgan pipe | ffmpeg`` with real processes and real pipes.

The flags, checked against Debian's ffmpeg 5.1:

* upstream ``-fps_mode passthrough`` (5.1's name for ``-vsync passthrough``) hands every decoded
  frame on with its own timestamp, and ``-enc_time_base:v -1`` keeps the input's time base for
  the rawvideo stream instead of 1/frame-rate, so VFR timestamps are not rounded to a grid;
* downstream needs ``-enc_time_base:v -1`` as well: without it ffmpeg 5.1 encodes in 1/25 and a
  frame at 0.097 s comes out at 0.120 s. ``-fps_mode passthrough`` stops it dropping or
  duplicating frames to fit a rate.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests import media
from tests.runner import requires_ffmpeg

pytestmark = [pytest.mark.e2e, requires_ffmpeg]

KEEP_TIMING = ["-fps_mode", "passthrough", "-enc_time_base:v", "-1"]


def _upstream(src: Path) -> list[str]:
    return ["ffmpeg", "-v", "error", "-nostdin", "-i", str(src), "-map", "0",
            "-c:v", "rawvideo", "-c:a", "pcm_s16le", *KEEP_TIMING, "-f", "nut", "-"]


def _downstream(dst: Path, video_codec: str, audio_codec: str) -> list[str]:
    return ["ffmpeg", "-v", "error", "-nostdin", "-f", "nut", "-i", "-",
            "-c:v", video_codec, "-c:a", audio_codec, *KEEP_TIMING, str(dst)]


def run_chain(src: Path, chain: str, dst: Path, video_codec: str, audio_codec: str, logs: Path) -> None:
    """Three processes joined by OS pipes (no shell); fails with every stderr if one of them fails."""
    commands = [_upstream(src), [sys.executable, "-m", "vidgan", "pipe", "-vf", chain],
                _downstream(dst, video_codec, audio_codec)]
    processes: list[subprocess.Popen] = []
    stderr_files = [open(logs / f"stderr{i}.txt", "w+") for i in range(3)]
    try:
        stdin = None
        for index, command in enumerate(commands):
            last = index == len(commands) - 1
            process = subprocess.Popen(command, stdin=stdin, stdout=None if last else subprocess.PIPE,
                                       stderr=stderr_files[index])
            if stdin is not None:
                stdin.close()  # only the child holds the read end now, so EOF and SIGPIPE propagate
            stdin = process.stdout
            processes.append(process)
        codes = [process.wait(timeout=120) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    messages = []
    for command, code, log in zip(commands, codes, stderr_files):
        log.seek(0)
        messages.append(f"{' '.join(command)}\n  exit {code}: {log.read()}")
        log.close()
    assert codes == [0, 0, 0], "\n".join(messages)


LOSSLESS = ("ffv1", "pcm_s16le", "mkv")
LOSSY = ("libx264", "aac", "mp4")
CASES = [
    ("cfr", "null", LOSSLESS),
    ("cfr", "hflip", LOSSLESS),
    ("vfr", "null", LOSSLESS),
    ("vfr", "scale=80:60,null,hflip", LOSSLESS),
    ("cfr", "null", LOSSY),
    ("vfr", "hflip", LOSSY),
]


@pytest.mark.parametrize("clip, chain, downstream", CASES, ids=[f"{c}-{f}-{d[2]}" for c, f, d in CASES])
def test_pipe_keeps_frames_timestamps_and_audio(tmp_path: Path, clip: str, chain: str,
                                               downstream: tuple[str, str, str]) -> None:
    src = media.cfr_clip(tmp_path) if clip == "cfr" else media.vfr_clip(tmp_path)
    video_codec, audio_codec, container = downstream
    dst = tmp_path / f"out.{container}"
    run_chain(src, chain, dst, video_codec, audio_codec, tmp_path)

    before, after = media.video_times(src), media.video_times(dst)
    assert len(after) == len(before)
    assert media.ms(after) == media.ms(before)

    start_in, length_in = media.audio_span(src)
    start_out, length_out = media.audio_span(dst)
    assert start_out == pytest.approx(start_in, abs=0.030)
    assert length_out == pytest.approx(length_in, abs=0.030)


def test_pipe_applies_the_filter(tmp_path: Path) -> None:
    src = media.cfr_clip(tmp_path, frames=10)
    dst = tmp_path / "out.mkv"
    run_chain(src, "null,hflip", dst, "ffv1", "pcm_s16le", tmp_path)
    for original, flipped in zip(media.video_frames(src), media.video_frames(dst), strict=True):
        for plane, flipped_plane in zip(media.planes(original), media.planes(flipped)):
            assert np.array_equal(flipped_plane, np.fliplr(plane))  # rawvideo and FFV1 are lossless
