"""Where tensors live and in which precision: resolved once at the boundary, then taken from the inputs.

Every front end (CLI, serve, live, frei0r, training) turns the user's ``--device`` into a torch device
string with :func:`resolve_device`, and every model picks its dtype with :func:`resolve_precision`.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from vidgan.errors import FilterOptionError

if TYPE_CHECKING:
    import torch

Precision = Literal["auto", "fp32", "bf16", "fp16"]
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16", "fp16")


def resolve_device(device: str | None) -> str:
    """``auto`` -> ``cuda`` when a CUDA GPU is usable, else ``cpu``; torch is imported only if a driver exists."""
    if device not in (None, "auto"):
        return device
    if not os.path.exists("/proc/driver/nvidia/version") and os.name == "posix":
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bf16 in hardware (AVX-512 BF16 or AMX), read from /proc/cpuinfo.

    Elsewhere (AVX2-only CPUs, other systems) bf16 would be emulated and slower than fp32.
    """
    return _cpu_flags() & {"avx512_bf16", "amx_bf16"} != set()


@functools.cache
def _cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def resolve_precision(requested: str, device: torch.device, *, owner: str = "stylize") -> torch.dtype:
    """The dtype the generator runs in: ``auto`` is fp16 on CUDA, and on the CPU bf16 where the CPU
    computes it natively (:func:`cpu_has_native_bf16`), else fp32.

    Why bf16 on such CPUs: the full preset's end-to-end rate at 640x360 on 2 AMD EPYC cores with
    AVX-512 BF16 went from 4.4 to 7.5 fps with OpenVINO (3.2 to 4.9 with torch); see
    docs/benchmarks.md. Its frames differ from fp32's by about one 8-bit level.
    """
    import torch

    if requested == "fp32":
        return torch.float32
    if device.type == "cuda":
        return torch.bfloat16 if requested == "bf16" else torch.float16
    if requested == "fp16":
        raise FilterOptionError(f"{owner}: precision=fp16 needs CUDA; on the CPU use fp32 or bf16")
    if requested == "auto":
        return torch.bfloat16 if cpu_has_native_bf16() else torch.float32
    return torch.bfloat16


def training_dtype(amp: bool, device: torch.device) -> torch.dtype:
    """The autocast dtype of every training run: bf16 on a CUDA GPU that supports it, else fp32.

    One policy for all recipes. bf16 has fp32's exponent range, so no gradient scaler is needed:
    no loss-scale state in checkpoints, no skipped optimiser steps after an overflow (which would
    make a resumed run differ from a straight one), and the squared and unbounded GAN losses do not
    overflow as they can in fp16. On the CPU autocast does not pay (see :func:`resolve_precision`).
    """
    import torch

    if amp and device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32
