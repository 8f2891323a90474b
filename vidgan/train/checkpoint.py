"""What every trainer does with its checkpoint and model card, in one place: write the checkpoint
atomically next to a readable config.json, read it back safely, and describe the machine.

A checkpoint is committed with its run so that training can span sessions, and a repository takes
files of a bounded size: a payload larger than :data:`PART_BYTES` is written as ``checkpoint.pt``
plus part files, each holding whole entries of the recipe's state (first-fit by size), all read
back into one payload. The main file is replaced last, so a crash leaves the previous set whole."""

from __future__ import annotations

import dataclasses
import io
import logging
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidgan.errors import TrainingDataError

if TYPE_CHECKING:  # torch is imported when a checkpoint is touched, not when the CLI starts
    import torch
    from _typeshed import DataclassInstance

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"
#: The largest file a checkpoint writes (where one recipe entry alone is not larger).
PART_BYTES = 16 * 2**20


def _serialized_bytes(obj: Any) -> int:
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.tell()


def split_payload(payload: dict, limit: int = PART_BYTES) -> list[dict]:
    """``payload`` as files of at most ``limit`` bytes: the first keeps every top-level entry but
    some of ``payload["recipe"]``'s, each further one holds ``{"recipe": {...}}`` with the rest."""
    recipe = payload.get("recipe")
    if not isinstance(recipe, dict) or _serialized_bytes(payload) <= limit:
        return [payload]
    sizes = {key: _serialized_bytes(value) for key, value in recipe.items()}
    head = {key: value for key, value in payload.items() if key != "recipe"}
    budgets = [limit - _serialized_bytes(head)]
    shares: list[dict[str, Any]] = [{}]
    for key in sorted(sizes, key=lambda k: -sizes[k]):  # first-fit decreasing
        for index, share in enumerate(shares):
            if sizes[key] <= budgets[index]:
                share[key] = recipe[key]
                budgets[index] -= sizes[key]
                break
        else:
            if sizes[key] > limit:
                log.warning("checkpoint entry %r is %.1f MB, more than the %.0f MB of one part", key,
                            sizes[key] / 2**20, limit / 2**20)
            shares.append({key: recipe[key]})
            budgets.append(limit - sizes[key])
    return [{**head, "recipe": shares[0]}] + [{"recipe": share} for share in shares[1:]]


def write_checkpoint(payload: dict, out: Path, config: DataclassInstance, *, limit: int = PART_BYTES) -> Path:
    """``torch.save`` to ``out/checkpoint.pt`` (and its parts) through temporary files, and the run's
    config as JSON beside it."""
    import torch

    path = out / CHECKPOINT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    main, *parts = split_payload(payload, limit)
    token = f"{int(payload.get('step', 0)):07d}"
    names = [f"checkpoint.{token}.part{index}.pt" for index in range(1, len(parts) + 1)]
    for name, part in zip(names, parts, strict=True):
        tmp = out / (name + ".partial")
        torch.save(part, tmp)
        tmp.replace(out / name)
    if names:
        main = {**main, "parts": names}
    tmp = path.with_suffix(".partial")
    torch.save(main, tmp)
    tmp.replace(path)
    for stale in out.glob("checkpoint.*.part*.pt"):
        if stale.name not in names:
            stale.unlink()
    from vidgan.models.cards import write_json_atomic

    write_json_atomic(out / "config.json", dataclasses.asdict(config))
    return path


def read_checkpoint(path: Path, device: torch.device) -> dict | None:
    """The checkpoint's payload with its parts merged back (tensors only: ``weights_only``), or None
    when there is none yet."""
    import torch

    if not path.exists():
        return None
    payload = torch.load(path, map_location=device, weights_only=True)
    for name in payload.pop("parts", []):
        part_path = path.parent / name
        if not part_path.exists():
            raise TrainingDataError(f"{path} needs its part {name}, which is missing; copy the run folder whole")
        payload["recipe"].update(torch.load(part_path, map_location=device, weights_only=True)["recipe"])
    return payload


def machine_description(device: torch.device) -> str:
    """For model cards: the processor architecture, the device type and, on CUDA, the GPU's name."""
    import torch

    gpu = f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""
    return f"{platform.machine()} {device.type}{gpu}"
