"""Fixtures of the end-to-end tests: ``vidgan serve`` as a process of its own."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


class Serve:
    """``vidgan serve`` as its own process, so a test can kill it like a crash would."""

    def __init__(self, socket_path: Path, log: Path) -> None:
        self.socket_path, self.log = socket_path, log
        ready = log.with_suffix(".ready")
        ready.unlink(missing_ok=True)
        with open(log, "ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "vidgan", "serve", "--socket", str(socket_path), "--ready-file", str(ready),
                 "-v"],
                stdout=subprocess.DEVNULL, stderr=err,
            )
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert self.process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "vidgan serve did not start"
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)


@pytest.fixture
def start_serve(tmp_path: Path) -> Iterator[Callable[[Path], Serve]]:
    """Start servers on demand; whatever a test leaves running (a failed assertion included) is
    killed at teardown."""
    started: list[Serve] = []

    def start(socket_path: Path) -> Serve:
        started.append(Serve(socket_path, tmp_path / "serve.log"))
        return started[-1]

    yield start
    for serve in started:
        if serve.process.poll() is None:
            serve.process.kill()
            serve.process.wait(timeout=30)
