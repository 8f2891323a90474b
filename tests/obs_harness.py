"""Real OBS Studio for end-to-end tests: Xvfb, a fresh HOME with a prepared profile, the vidgan
plugin installed for that HOME, the bundled obs-websocket on a free loopback port.

What the set-up needs, found by running Debian's OBS 29.0.2 here: ``ConfirmOnExit=false`` (else
SIGINT while recording opens a modal dialog), websocket settings in global.ini (obs-websocket 5.1),
``FirstRun=true`` and ``LastVersion`` (no wizard or what's-new dialog), and a clean stop by SIGINT
after the websocket client has disconnected (SIGKILL after a timeout; assertions look at the
recording and the log, never at OBS's exit code).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

OBS_LAST_VERSION = 486539266  # 29.0.2 packed as OBS does (major << 24 | minor << 16 | patch)


def missing_requirements() -> str | None:
    for program in ("obs", "Xvfb", "cmake", "ffmpeg"):
        if shutil.which(program) is None:
            return f"{program} is not installed (CI installs obs-studio, xvfb, cmake and ffmpeg)"
    if not Path("/usr/include/obs/obs-module.h").exists() and not os.environ.get("VIDGAN_LIBOBS_FOUND"):
        return "libobs-dev is not installed"
    try:
        import obsws_python  # noqa: F401
    except ImportError:
        return "obsws-python is not installed (pip install obsws-python)"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(home: Path, *, port: int, width: int, height: int, fps: int, recordings: Path) -> None:
    config = home / ".config" / "obs-studio"
    (config / "basic" / "profiles" / "vidgan").mkdir(parents=True)
    (config / "basic" / "scenes").mkdir(parents=True)
    (config / "global.ini").write_text(
        f"[General]\nFirstRun=true\nLastVersion={OBS_LAST_VERSION}\nConfirmOnExit=false\nEnableAutoUpdates=false\n"
        "Pre19Defaults=false\nPre21Defaults=false\nPre23Defaults=false\nPre24.1Defaults=false\n\n"
        "[Basic]\nProfile=vidgan\nProfileDir=vidgan\nSceneCollection=vidgan\nSceneCollectionFile=vidgan\n\n"
        "[BasicWindow]\nSysTrayEnabled=false\n\n"
        f"[OBSWebSocket]\nFirstLoad=false\nServerEnabled=true\nServerPort={port}\nAlertsEnabled=false\n"
        "AuthRequired=false\nServerPassword=\n"
    )
    (config / "basic" / "profiles" / "vidgan" / "basic.ini").write_text(
        f"[General]\nName=vidgan\n\n[Video]\nBaseCX={width}\nBaseCY={height}\nOutputCX={width}\nOutputCY={height}\n"
        f"FPSType=1\nFPSInt={fps}\nColorFormat=NV12\nColorSpace=709\nColorRange=Partial\n\n"
        f"[Output]\nMode=Simple\n\n[SimpleOutput]\nFilePath={recordings}\nRecFormat=mkv\nRecQuality=HQ\n"
        f"RecEncoder=x264\n"
    )


class Obs:
    """A running OBS with a websocket client; ``log`` is OBS's stdout/stderr."""

    def __init__(self, process: subprocess.Popen, client, log: Path, recordings: Path) -> None:
        self.process = process
        self.client = client
        self.log = log
        self.recordings = recordings

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 60.0, after: int = 0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_text()[after:]:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"OBS log never said {text!r}; its tail:\n{self.log_text()[-3000:]}")

    def record(self, seconds: float) -> Path:
        """Record for ``seconds`` once the output has started, and return when the file is complete:
        StopRecord answers before the muxer has finished, and OBS stopped then leaves an empty file."""
        mark = len(self.log_text())
        self.client.start_record()
        self.wait_for_log("==== Recording Start", after=mark)
        time.sleep(seconds)
        path = Path(self.client.stop_record().output_path)
        self.wait_for_log("==== Recording Stop", after=mark)
        return path


@contextmanager
def running_obs(tmp: Path, *, width: int, height: int, fps: int):
    """Xvfb + OBS with the plugin installed in a fresh HOME; stopped as the issue describes."""
    import obsws_python

    from vidgan.plugins.obs import build as obs_plugin

    home, recordings = tmp / "home", tmp / "recordings"
    recordings.mkdir(parents=True)
    port = free_port()
    write_config(home, port=port, width=width, height=height, fps=fps, recordings=recordings)
    obs_plugin.install(home / ".config" / "obs-studio" / "plugins")

    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        display = pipe.readline().strip()
    if not display:
        xvfb.kill()
        pytest.fail("Xvfb did not start")
    env = {**os.environ, "HOME": str(home), "DISPLAY": f":{display}", "LIBGL_ALWAYS_SOFTWARE": "1",
           "QT_QPA_PLATFORM": "xcb", "XDG_CONFIG_HOME": str(home / ".config")}
    env.pop("XDG_RUNTIME_DIR", None)
    log = tmp / "obs.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            ["obs", "--multi", "--disable-updater", "--profile", "vidgan", "--collection", "vidgan"],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp, start_new_session=True,
        )
    client = None
    try:
        deadline = time.monotonic() + 90
        while client is None:
            try:
                client = obsws_python.ReqClient(host="127.0.0.1", port=port, timeout=10)
            except (ConnectionError, OSError, Exception):  # the websocket is not up yet
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"OBS's websocket never came up; log tail:\n{log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.5)
        yield Obs(process, client, log, recordings)
    finally:
        if client is not None:
            try:
                client.disconnect()
            except Exception:  # already gone with OBS
                pass
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        xvfb.terminate()
        try:
            xvfb.wait(timeout=10)
        except subprocess.TimeoutExpired:
            xvfb.kill()
