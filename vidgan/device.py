"""Where tensors live and in which precision: resolved once at the boundary, then taken from the inputs.

Every front end (CLI, serve, live, frei0r, training) turns the user's ``--device`` into a torch device
string with :func:`resolve_device`, and every model picks its dtype with :func:`resolve_precision`.
"""

from __future__ import annotations

import os
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


def resolve_precision(requested: str, device: torch.device, *, owner: str = "stylize") -> torch.dtype:
    """The dtype the generator runs in: ``auto`` is fp16 on CUDA and fp32 on the CPU.

    bf16 on the CPU (autocast) is selectable, but on a 2-core Xeon with AMX it ran the lite model
    no faster than fp32 at 640x360 (34 ms both): at this size the work is memory-bound.
    """
    import torch

    if requested == "fp32":
        return torch.float32
    if device.type == "cuda":
        return torch.bfloat16 if requested == "bf16" else torch.float16
    if requested == "fp16":
        raise FilterOptionError(f"{owner}: precision=fp16 needs CUDA; on the CPU use fp32 or bf16")
    return torch.bfloat16 if requested == "bf16" else torch.float32


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
