"""Running the ``vidgan`` command as a user would: a separate process, its exit status and stderr."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

#: What every user-facing failure looks like: one line, ``vidgan: error: <message>``.
ERROR_LINE = re.compile(r"vidgan: error: \S.*")

requires_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="the ffmpeg binary is not installed")


def vidgan(*args: str | Path, timeout: float = 60, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m vidgan ARGS``; stdout and stderr captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "vidgan", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, cwd=cwd,
    )


def error_line(result: subprocess.CompletedProcess) -> str:
    """The single stderr line of a failed run (fails the test if there is more, or a traceback)."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert ERROR_LINE.fullmatch(lines[0]), lines[0]
    return lines[0]


def partial_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name)


def assert_failed_cleanly(result: subprocess.CompletedProcess, folder: Path, message: str) -> str:
    """Non-zero exit, one error line matching ``message`` (a regex), and nothing new in ``folder``."""
    assert result.returncode != 0, result.stderr
    line = error_line(result)
    assert re.search(message, line), line
    assert list(folder.iterdir()) == [], f"left behind: {sorted(p.name for p in folder.iterdir())}"
    return line
