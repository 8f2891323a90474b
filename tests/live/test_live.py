"""``vidgan live`` with a video file standing in for the camera."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from tests import media
from tests.runner import error_line, vidgan
from vidgan.frame import Frame
from vidgan.live import camera as live


def decode_rgb(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [Frame.from_av(f).to_rgb24().astype(np.int16) for f in container.decode(video=0)]


def test_record_holds_stylized_frames_and_reports_latency(tmp_path):
    clip = media.cfr_clip(tmp_path)
    out = tmp_path / "live.mp4"
    result = vidgan("live", "--camera", clip, "--style", "van_gogh", "--record", out, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "latency median" in result.stderr
    recorded, inputs = decode_rgb(out), decode_rgb(clip)
    assert 0 < len(recorded) <= len(inputs)
    assert np.abs(recorded[-1] - inputs[-1]).mean() > 5  # stylized, not the camera's own frames


def test_preview_window_shows_frames(tmp_path, monkeypatch):
    pytest.importorskip("pygame")
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    report = live.run_live(str(media.cfr_clip(tmp_path)), "hflip", preview=True)
    assert report.processed > 0 and report.processed + report.dropped == report.captured


def test_virtual_camera_gets_the_processed_frames(tmp_path, monkeypatch):
    sent: list[np.ndarray] = []

    class FakeCamera:
        def __init__(self, width, height, fps):
            self.size = (width, height)

        def send(self, rgb):
            assert rgb.shape == (self.size[1], self.size[0], 3) and rgb.dtype == np.uint8
            sent.append(rgb.copy())

        def close(self):
            pass

    monkeypatch.setattr(live, "_virtual_camera_class", lambda: FakeCamera)
    clip = media.cfr_clip(tmp_path)
    report = live.run_live(str(clip), "hflip", virtual_cam=True, max_frames=10)
    assert report.processed == len(sent) == 10
    first = decode_rgb(clip)[0]
    assert np.abs(sent[0].astype(np.int16) - first[:, ::-1]).mean() < np.abs(sent[0].astype(np.int16) - first).mean()


def test_latest_frame_mailbox_drops_old_frames():
    box = live.LatestFrame()
    for i in range(3):
        box.put(i, float(i))
    assert box.take() == (2, 2.0) and box.dropped == 2 and box.captured == 3
    box.finish()
    assert box.take() is None


@pytest.mark.parametrize(
    "args, message",
    [
        (["--camera", "/dev/video97"], r"camera /dev/video97 does not exist"),
        (["--camera", "CLIP"], r"nothing to show"),
        (["--camera", "CLIP", "--record", "OUT", "-vf", "interpolate=factor=2"], r"adds or drops frames"),
        (["--camera", "missing.mp4", "--record", "OUT"], r"does not exist"),
    ],
)
def test_bad_input_is_one_line(tmp_path, args, message):
    clip = media.cfr_clip(tmp_path)
    args = [str(clip) if a == "CLIP" else str(tmp_path / "o.mp4") if a == "OUT" else a for a in args]
    if args[1] == "/dev/video97":
        args += ["--record", str(tmp_path / "o.mp4")]
    result = vidgan("live", *args, timeout=60)
    assert result.returncode != 0
    assert re.search(message, error_line(result))
    assert not (tmp_path / "o.mp4").exists()


def test_sigterm_ends_the_session_and_keeps_the_recording(tmp_path):
    clip = media.write_video(tmp_path / "long.mp4", frames=250)
    out = tmp_path / "live.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "vidgan", "live", "--camera", str(clip), "-vf", "hflip",
                             "--record", str(out)], stderr=subprocess.PIPE, text=True)
    # Midway: the recording is open (imports and start-up done, however long a busy machine takes),
    # then a couple of seconds of the clip's ten. The file holds nothing else until it is finished.
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".live.partial-*")):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the recording did not start within 120 s"
        time.sleep(0.05)
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert 0 < len(decode_rgb(out)) < 250
    assert not list(tmp_path.glob("*.partial-*"))


def test_stylizer_flags_are_checked_by_the_stylize_options(tmp_path):
    result = vidgan("live", "--camera", tmp_path / "absent.mp4", "--strength", "2", "--record", tmp_path / "o.mp4")
    assert result.returncode != 0
    assert "stylize: strength must be in [0, 1]; got 2.0" in error_line(result)
