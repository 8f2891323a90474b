"""Tiny style models for the tests of the sheet, the blind comparison and the style table.

Untrained generators of a very small architecture with a randomly perturbed head (a fresh head
is the identity), saved with ``save_style`` as user styles; the package's own styles are hidden.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vidgan.models.stylizer import RecurrentStylizer, StylizerConfig
from vidgan.models.zoo import save_style


def tiny_generator(preset: str, seed: int) -> RecurrentStylizer:
    config = StylizerConfig(preset, width=8, blocks=1, separable=preset == "lite", head="half",  # type: ignore[arg-type]
                            padding="zeros")
    torch.manual_seed(seed)
    model = RecurrentStylizer(config)
    torch.nn.init.normal_(model.head.weight, std=0.3)
    return model


def install_styles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   styles: dict[str, tuple[str, ...]]) -> Path:
    """Install ``{name: presets}`` as user styles NAME_PRESET; returns the user style folder."""
    empty = tmp_path / "no-builtins"
    empty.mkdir(exist_ok=True)
    monkeypatch.setattr("vidgan.models.zoo.builtin_dir", lambda: empty)
    monkeypatch.setenv("VIDGAN_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "data" / "styles"
    for seed, (name, presets) in enumerate(styles.items()):
        for offset, preset in enumerate(presets):
            save_style(tiny_generator(preset, 10 * seed + offset),
                       {"name": name, "kind": "stylizer", "preset": preset, "training": {"steps": 0}},
                       folder, f"{name}_{preset}")
    return folder
