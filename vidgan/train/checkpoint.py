"""What every trainer does with its checkpoint and model card, in one place: write the checkpoint
atomically next to a readable config.json, read it back safely, and describe the machine."""

from __future__ import annotations

import dataclasses
import platform
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported when a checkpoint is touched, not when the CLI starts
    import torch
    from _typeshed import DataclassInstance

CHECKPOINT_NAME = "checkpoint.pt"


def write_checkpoint(payload: dict, out: Path, config: DataclassInstance) -> Path:
    """``torch.save`` to ``out/checkpoint.pt`` through a temporary file (a crash never leaves half a
    checkpoint), and the run's config as JSON beside it."""
    import torch

    path = out / CHECKPOINT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial")
    torch.save(payload, tmp)
    tmp.replace(path)
    from vidgan.models.cards import write_json_atomic

    write_json_atomic(out / "config.json", dataclasses.asdict(config))
    return path


def read_checkpoint(path: Path, device: torch.device) -> dict | None:
    """The checkpoint's payload (tensors only: ``weights_only``), or None when there is none yet."""
    import torch

    if not path.exists():
        return None
    return torch.load(path, map_location=device, weights_only=True)


def machine_description(device: torch.device) -> str:
    """For model cards: the processor architecture, the device type and, on CUDA, the GPU's name."""
    import torch

    gpu = f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""
    return f"{platform.machine()} {device.type}{gpu}"
