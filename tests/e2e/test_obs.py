"""The OBS filter inside real OBS Studio (Xvfb, llvmpipe), driven over obs-websocket.

A media source plays a generated clip (async video, like a webcam) with the vidgan filter on it,
OBS records, and the recorded frames are matched against the clip and against ``vidgan`` run on
the clip outside OBS. Skips with the reason when OBS, Xvfb, libobs-dev or obsws-python is missing;
.ci/run installs them all.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import av
import numpy as np
import pytest

from tests import obs_harness
from tests.runner import vidgan
from vidgan.frame import Frame

pytestmark = [pytest.mark.e2e, pytest.mark.obs]
_missing = obs_harness.missing_requirements()
if _missing:
    pytestmark.append(pytest.mark.skip(reason=_missing))

W, H, FPS = 320, 240, 30


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate={FPS}",
                    "-t", "4", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-crf", "8",
                    # tagged, so OBS and vidgan read it with the same matrix (untagged SD: OBS 709, vidgan 601)
                    "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
                    str(path)], check=True)
    return path


def decode_rgb(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [Frame.from_av(f).to_rgb24().astype(np.int16) for f in container.decode(video=0)]


def nearest(frame: np.ndarray, candidates: list[np.ndarray]) -> float:
    return min(float(np.abs(frame - c).mean()) for c in candidates)


def add_clip_with_filter(obs: obs_harness.Obs, clip: Path, settings: dict) -> None:
    scene = obs.client.get_current_program_scene().current_program_scene_name
    obs.client.create_input(scene, "clip", "ffmpeg_source",
                            {"local_file": str(clip), "is_local_file": True, "looping": True}, True)
    obs.client.create_source_filter("clip", "vidgan", "vidgan_stylize_filter", settings)


def test_recording_holds_the_stylized_frames(tmp_path, clip, start_serve):
    serve = start_serve(tmp_path / "run" / "serve.sock")
    with obs_harness.running_obs(tmp_path, width=W, height=H, fps=FPS) as obs:
        add_clip_with_filter(obs, clip, {"socket_path": str(serve.socket_path), "autostart": False,
                                         "style": "van_gogh", "temporal": 0.0})
        obs.wait_for_log("[vidgan] status: running van_gogh")
        time.sleep(1.0)
        recording = obs.record(3.0)
        # The filter logs its stats when it is destroyed: remove it while OBS runs rather than
        # relying on OBS's own shutdown, which may be cut short.
        obs.client.remove_source_filter("clip", "vidgan")
        obs.wait_for_log("[vidgan] stats:")
    log = obs.log_text()
    serve.stop()
    # Outside OBS: the same chain the server runs (temporal 0: every frame stands alone, so frames
    # OBS skipped or repeated do not change the others).
    reference = tmp_path / "reference.mkv"
    result = vidgan("run", clip, "-o", reference, "-c:v", "ffv1",
                    "-vf", "stylize=style=van_gogh:strength=1:temporal=0:flow=fast:preset=lite", timeout=300)
    assert result.returncode == 0, result.stderr
    stylized, inputs = decode_rgb(reference), decode_rgb(clip)
    recorded = decode_rgb(recording)[5:]
    assert len(recorded) >= 2 * FPS
    to_stylized = np.array([nearest(f, stylized) for f in recorded])
    to_input = np.array([nearest(f, inputs) for f in recorded])
    assert np.median(to_input) > 8, "the style should change the clip visibly"
    assert np.mean(to_stylized < 0.5 * to_input) >= 0.9, (np.median(to_stylized), np.median(to_input))
    stats = re.search(r"\[vidgan\] stats: frames=(\d+) stylized=(\d+).*filter_ms_mean=([\d.]+)", log)
    assert stats and int(stats.group(2)) > 0, log[-3000:]


def classify_flipped(recording: Path, inputs: list[np.ndarray], flipped: list[np.ndarray]) -> np.ndarray:
    """Per recorded frame: True when it is nearer a mirrored clip frame than an unmirrored one."""
    frames = decode_rgb(recording)
    return np.array([nearest(f, flipped) < nearest(f, inputs) for f in frames])


def test_server_absent_killed_and_back(tmp_path, clip, start_serve):
    """Frames pass through while there is no server, are processed once it starts, pass through
    again after it is killed (OBS keeps running), and are processed again when it returns."""
    socket_path = tmp_path / "run" / "serve.sock"
    inputs = decode_rgb(clip)
    flipped = [f[:, ::-1] for f in inputs]
    with obs_harness.running_obs(tmp_path, width=W, height=H, fps=FPS) as obs:
        add_clip_with_filter(obs, clip, {"socket_path": str(socket_path), "autostart": False, "chain": "hflip"})
        obs.wait_for_log("vidgan serve is not running")
        absent = obs.record(1.5)

        mark = len(obs.log_text())  # before the server starts: the filter may connect at once
        serve = start_serve(socket_path)
        obs.wait_for_log("[vidgan] status: running hflip", after=mark)
        time.sleep(0.5)
        present = obs.record(2.0)

        mark = len(obs.log_text())
        serve.stop(signal.SIGKILL)
        obs.wait_for_log("reconnecting", after=mark, timeout=15)
        time.sleep(0.5)
        killed = obs.record(1.5)
        assert obs.process.poll() is None, "OBS must survive the server's crash"

        mark = len(obs.log_text())
        serve = start_serve(socket_path)
        obs.wait_for_log("[vidgan] status: running hflip", after=mark, timeout=30)
        time.sleep(0.5)
        back = obs.record(2.0)
        serve.stop()
    assert not classify_flipped(absent, inputs, flipped).any()
    assert classify_flipped(present, inputs, flipped)[5:].mean() >= 0.95
    assert not classify_flipped(killed, inputs, flipped)[5:].any()
    assert classify_flipped(back, inputs, flipped)[5:].mean() >= 0.95
