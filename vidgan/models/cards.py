"""One model file format for every kind of model: ``NAME.safetensors`` and its JSON card ``NAME.json``.

The card says what the weights are (``kind``, the architecture to rebuild, how they were
trained) and carries a ``card_version``, so a newer card is refused with a clear message rather
than misread. Cards written before versioning (the shipped styles: ``format: 1``) read as version 1.
Both files are written through temporary names and renamed, so a crash never leaves half a model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidgan.errors import ModelFileError

if TYPE_CHECKING:
    import torch

CARD_VERSION = 1


def card_path(weights: Path) -> Path:
    """The card beside ``weights``."""
    return Path(weights).with_suffix(".json")


def read_card(path: Path, *, kind: str | None = None, require: Iterable[str] = ()) -> dict[str, Any]:
    """The card at ``path``, validated: a JSON object, a version this vidgan reads, the expected
    ``kind`` (when the card names one) and the ``require``d keys. Problems are one-line ModelFileErrors."""
    path = Path(path)
    try:
        card = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelFileError(f"model card {path} is missing") from None
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"model card {path} is unreadable: {str(exc).splitlines()[0]}") from None
    if not isinstance(card, dict):
        raise ModelFileError(f"model card {path} is not a JSON object")
    version = card.setdefault("card_version", card.get("format", 1))
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"model card {path} has an invalid card_version {version!r}")
    if version > CARD_VERSION:
        raise ModelFileError(f"model card {path} is version {version}; this vidgan reads up to version "
                             f"{CARD_VERSION} (upgrade vidgan)")
    if kind is not None and card.get("kind", kind) != kind:
        raise ModelFileError(f"model card {path} describes a {card['kind']}, not a {kind}")
    missing = [key for key in require if key not in card]
    if missing:
        raise ModelFileError(f"model card {path} lacks {', '.join(missing)}")
    return card


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def save_model(folder: Path, stem: str, state: Mapping[str, torch.Tensor], card: Mapping[str, Any]) -> Path:
    """Write ``folder/stem.safetensors`` (float32, CPU, contiguous) and its card; returns the weights path.

    Both go to temporary files first; the weights are renamed into place before the card, so a
    listed card always has its complete weights beside it.
    """
    import torch
    from safetensors.torch import save

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / f"{stem}.safetensors"
    card = {**card, "card_version": CARD_VERSION}
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in state.items()}
    header = {"vidgan_card": json.dumps({key: card[key] for key in ("name", "kind", "preset") if key in card})}
    weights_tmp = weights.with_name(weights.name + ".partial")
    weights_tmp.write_bytes(save(tensors, metadata=header))
    card_tmp = card_path(weights).with_name(card_path(weights).name + ".partial")
    card_tmp.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    os.replace(weights_tmp, weights)
    os.replace(card_tmp, card_path(weights))
    return weights


def write_json_atomic(path: Path, value: Any) -> None:
    """A JSON file written through a temporary name (the resolved config next to a checkpoint)."""
    _atomic_write_bytes(Path(path), (json.dumps(value, indent=2) + "\n").encode())


__all__ = ["CARD_VERSION", "card_path", "read_card", "save_model", "write_json_atomic"]
