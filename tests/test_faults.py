"""Faults a long job meets: a full disk, a corrupt packet mid-stream, and damaged NUT on the pipe."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import media
from tests.runner import error_line, partial_files, vidgan
from vidgan.engine import transcode
from vidgan.errors import VidganError
from vidgan.io.encode import EncodeOptions


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def small_disk_command() -> list[str] | None:
    """A prefix that runs a shell in its own user and mount namespace, where it may mount a tmpfs."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-Urm", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-Urm", "sh", "-c"]
    return None


def test_disk_full_is_one_line_input_untouched_nothing_left(tmp_path):
    prefix = small_disk_command()
    if prefix is None:
        pytest.skip("cannot mount a small tmpfs here (no user namespaces)")
    clip = media.write_video(tmp_path / "in.mp4", size=(640, 360), frames=60)
    before = digest(clip)
    full = tmp_path / "full"
    full.mkdir()
    script = (f"mount -t tmpfs -o size=300k tmpfs {full} && "
              f"{sys.executable} -m vidgan run {clip} -o {full}/out.mkv -c:v ffv1 2> {tmp_path}/stderr; "
              f"echo $? > {tmp_path}/rc; ls -A {full} > {tmp_path}/left")
    subprocess.run([*prefix, script], check=True, timeout=120)
    stderr = (tmp_path / "stderr").read_text()
    assert (tmp_path / "rc").read_text().strip() != "0"
    assert stderr.count("\n") == 1 and "vidgan: error: disk full while writing" in stderr, stderr
    assert (tmp_path / "left").read_text() == ""  # neither the output nor its partial file
    assert digest(clip) == before


def corrupt_mid_stream(src: Path, dst: Path) -> None:
    """Overwrite most of the 30th video packet's bytes, leaving the container intact."""
    shutil.copy(src, dst)
    with av.open(str(dst)) as container:
        packets = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    pos, size = packets[len(packets) // 2]
    with open(dst, "r+b") as f:
        f.seek(pos + 8)
        f.write(b"\xff" * min(size - 8, 400))


def test_corrupt_packet_mid_stream(tmp_path):
    clip = media.write_video(tmp_path / "in.mp4", size=(320, 240), frames=60)
    bad = tmp_path / "bad.mp4"
    corrupt_mid_stream(clip, bad)
    before = digest(bad)
    out = tmp_path / "out.mp4"
    result = vidgan("run", bad, "-o", out)
    assert result.returncode != 0
    assert "is damaged" in error_line(result) and "--allow-corrupt" in error_line(result)
    assert not out.exists() and not partial_files(tmp_path)
    kept = vidgan("run", bad, "-o", out, "--allow-corrupt")
    assert kept.returncode == 0, kept.stderr
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) >= 59  # the damaged frame is concealed, not lost
    assert digest(bad) == before


@pytest.fixture(scope="module")
def nut_bytes(tmp_path_factory) -> bytes:
    """8 frames of 32x24 rawvideo in NUT: what ``ffmpeg ... -f nut -`` sends down a pipe."""
    path = tmp_path_factory.mktemp("nut") / "clip.nut"
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", format="nut") as container:
        stream = container.add_stream("rawvideo", rate=25)
        stream.width, stream.height, stream.pix_fmt = 32, 24, "yuv420p"
        for _ in range(8):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path.read_bytes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_nut_input_fails_cleanly_or_works(nut_bytes, tmp_path, data):
    """Flipped bytes and truncations of a NUT stream: a clean result or a VidganError, never a crash,
    a hang or a partial file."""
    raw = bytearray(nut_bytes)
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(1, len(raw)))]
    allow_corrupt = data.draw(st.booleans())
    case = Path(tempfile.mkdtemp(dir=tmp_path))
    src = case / "in.nut"
    src.write_bytes(bytes(raw))
    try:
        transcode(src, case / "out.nut", chain="null", input_format="nut", allow_corrupt=allow_corrupt,
                  encode=EncodeOptions(codec="rawvideo"))
    except VidganError:
        assert not (case / "out.nut").exists()
    assert not partial_files(case)


def test_garbage_on_the_pipe_is_one_line(tmp_path):
    garbage = np.random.default_rng(1).integers(0, 256, 20000, dtype=np.uint8).tobytes()
    result = subprocess.run([sys.executable, "-m", "vidgan", "pipe", "-vf", "null"], input=garbage,
                            capture_output=True, timeout=60)
    assert result.returncode != 0
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidgan: error:"), lines
