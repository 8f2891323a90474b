"""The runnable batch example in vidgan/plugins/ffmpeg: ffmpeg | vidgan pipe | ffmpeg over a folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import av
import pytest

from tests.media import write_video

SCRIPT = Path(__file__).resolve().parents[2] / "vidgan" / "plugins" / "ffmpeg" / "pipe_batch.sh"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="the ffmpeg binary is not installed"),
]


def test_example_processes_a_folder_keeps_audio_and_resumes(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("one", "two"):
        write_video(inputs / f"{name}.mp4", size=(64, 48), frames=25, audio_seconds=1.0)
    (inputs / "junk.mp4").write_text("not a video")
    out = tmp_path / "out"
    vidgan_cmd = tmp_path / "vidgan"
    vidgan_cmd.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m vidgan "$@"\n')
    vidgan_cmd.chmod(0o755)
    env = dict(os.environ, VIDGAN=str(vidgan_cmd), PYTHONPATH=str(SCRIPT.parents[3]))

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(SCRIPT), str(inputs), str(out), "scale=32:24,hflip"],
                              capture_output=True, text=True, env=env, timeout=300)

    first = run()
    assert first.returncode == 1, first.stderr  # junk.mp4 fails, the others are done
    assert "2 done, 0 skipped (already finished), 1 failed" in first.stderr
    for name in ("one", "two"):
        with av.open(str(out / f"{name}.mp4")) as result:
            assert result.streams.video[0].codec_context.width == 32
            assert result.streams.audio, "audio was not carried through the pipe"
            assert sum(1 for _ in result.decode(video=0)) == 25
    assert not (out / "junk.mp4").exists()
    assert not [p for p in out.iterdir() if ".partial-" in p.name]
    second = run()
    assert "0 done, 2 skipped" in second.stderr
