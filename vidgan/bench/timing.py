"""What every benchmark here needs to time a call and to say where it ran."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def _synchronize(device: torch.device | str) -> None:
    if str(device).startswith("cuda"):
        import torch  # here, not at import: `vidgan bench` starts without torch

        torch.cuda.synchronize(device)


def timed(fn: Callable[[], object], device: torch.device | str) -> float:
    """Seconds of one call; on CUDA, synchronised before and after so the queued work is counted."""
    _synchronize(device)
    started = time.perf_counter()
    fn()
    _synchronize(device)
    return time.perf_counter() - started


def cpu_model() -> str:
    """The CPU's marketing name: figures mean little without it."""
    info = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine()
