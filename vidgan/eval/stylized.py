"""Stylized frames exactly as users get them, for the sheet, the blind comparison and the style table.

Every picture these tools show goes through the real ``stylize`` stage (motion, recurrence,
temporal blend), one stage per style model; this module picks the models (style x preset) and
runs frames through a stage in order, so warm-up frames feed the recurrence as in a video.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vidgan.errors import UnknownStyleError

if TYPE_CHECKING:
    import numpy as np

    from vidgan.models.zoo import StyleEntry
    from vidgan.stages.stylize import StylizeStage

__all__ = ["PRESET_CHOICES", "StyleColumn", "open_stage", "parse_style_spec", "style_columns", "stylize_frames"]

#: What ``--preset`` takes where several models are shown: one preset, ``auto`` (as the stage picks) or ``both``.
PRESET_CHOICES: tuple[str, ...] = ("auto", "lite", "full", "both")
_ORDER = ("lite", "full")


@dataclass(frozen=True)
class StyleColumn:
    """One style model to show: its entry in the zoo and the label a viewer reads."""

    entry: StyleEntry

    @property
    def label(self) -> str:
        return f"{self.entry.name} {self.entry.preset}"


def _presets_of(name: str) -> list[str]:
    from vidgan.models.zoo import list_styles

    found = {entry.preset for entry in list_styles() if entry.name == name}
    return [p for p in _ORDER if p in found] + sorted(found - set(_ORDER))


def style_columns(styles: Sequence[str] | None, preset: str = "auto", *,
                  prefer_full: bool = True) -> list[StyleColumn]:
    """The models for ``styles`` (names or ``.safetensors`` paths; None or empty: every installed style).

    ``preset``: ``lite``/``full`` (a named style without it is an error; with every style, such
    styles are left out), ``auto`` (what the stage picks for files: full when ``prefer_full`` and
    present, else lite) or ``both`` (each installed preset of a style, lite first).
    """
    from vidgan.models.zoo import find_style, style_names

    if preset not in PRESET_CHOICES:
        raise UnknownStyleError(f"unknown preset {preset!r}; choose one of {', '.join(PRESET_CHOICES)}")
    everything = not styles
    names = list(styles) if styles else style_names()
    if not names:
        raise UnknownStyleError("no styles installed; train one with: vidgan train style ...")
    columns: list[StyleColumn] = []
    for name in names:
        first = find_style(name, "auto", prefer_full=prefer_full)  # an unknown name or missing file fails here, by name
        if first.source == "file" or preset == "auto":
            columns.append(StyleColumn(first))
        elif preset == "both":
            columns += [StyleColumn(find_style(name, p)) for p in _presets_of(name)]
        elif everything and preset not in _presets_of(name):
            continue
        else:
            columns.append(StyleColumn(find_style(name, preset)))
    if not columns:
        raise UnknownStyleError(f"no installed style has a {preset} model; installed: {', '.join(names)}")
    return columns


def parse_style_spec(spec: str) -> tuple[str, str]:
    """``NAME``, ``NAME:lite``/``NAME:full`` or a ``.safetensors`` path -> (name or path, preset)."""
    name, sep, preset = spec.rpartition(":")
    if sep and name and preset in ("auto", "lite", "full"):
        return name, preset
    return spec, "auto"


def open_stage(entry: StyleEntry, device: str = "cpu", *, motion: str = "dis") -> StylizeStage:
    """The stylize stage for one model with the user's defaults (``motion=none`` for unrelated photos)."""
    from vidgan.graph.stage import StageContext
    from vidgan.options import build_options
    from vidgan.stages.stylize import StylizeStage

    options = build_options("stylize", StylizeStage.Options,
                            [("style", str(entry.weights)), ("preset", entry.preset), ("motion", motion),
                             ("overlap", "0")])
    return StylizeStage(options, StageContext(device=device))


def stylize_frames(stage: StylizeStage, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Each (H, W, 3) uint8 RGB frame stylized in order, the recurrence carried from one to the next.

    The stage is reset first, so a sequence starts as a video does.
    """
    import numpy as np
    import torch

    stage.reset()
    for rgb in frames:
        tensor = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).unsqueeze(0).float().div(255)
        out = stage.stylize_tensor(tensor.to(stage.device))[0]
        yield out.permute(1, 2, 0).clamp(0, 1).mul(255).round().byte().cpu().numpy()
