"""Styles by name: built-in ones shipped in the package, user ones in the platform's data folder.

A style is two files with one stem: ``NAME.safetensors`` (generator weights) and ``NAME.json``
(its model card, :mod:`vidgan.models.cards`: architecture, preset, training data, steps, metrics). The architecture is
rebuilt from the card, and weights load through safetensors, so opening a model never executes
code; pickle files are refused without being read past their first bytes.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import torch

from vidgan.errors import ModelFileError, UnknownStyleError, did_you_mean
from vidgan.models.cards import card_path, read_card, save_model
from vidgan.models.stylizer import RecurrentStylizer, StylizerConfig

_PICKLE_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".bin")


@dataclass(frozen=True)
class StyleEntry:
    """One installed style model; a style name may have a ``lite`` and a ``full`` model."""

    name: str
    preset: str
    source: str  # "built-in", "user" or "file"
    weights: Path
    card: dict

    @property
    def summary(self) -> str:
        data = self.card.get("training", {})
        works = data.get("style_images")
        return (f"{self.preset}"
                + (f", trained on {works} painting{'s' if works != 1 else ''}" if works else "")
                + (f", {data['steps']} steps" if "steps" in data else ""))


def builtin_dir() -> Path:
    return Path(str(files("vidgan.models").joinpath("weights")))


def user_dir() -> Path:
    """``$VIDGAN_DATA_DIR/styles``, else ``$XDG_DATA_HOME/vidgan/styles`` (``~/.local/share`` by default)."""
    if os.environ.get("VIDGAN_DATA_DIR"):
        return Path(os.environ["VIDGAN_DATA_DIR"]) / "styles"
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "vidgan" / "styles"


def _entries(folder: Path, source: str) -> dict[tuple[str, str], StyleEntry]:
    found: dict[tuple[str, str], StyleEntry] = {}
    if not folder.is_dir():
        return found
    for weights in sorted(folder.glob("*.safetensors")):
        try:
            card = read_card(card_path(weights), kind="stylizer")
        except ModelFileError:
            continue  # a style without a readable card is not listed
        name, preset = card.get("name", weights.stem), card.get("preset", "lite")
        found[(name, preset)] = StyleEntry(name, preset, source, weights, card)
    return found


def list_styles() -> list[StyleEntry]:
    """Built-in styles, then user styles (a user style with a built-in's name and preset shadows it)."""
    styles = _entries(builtin_dir(), "built-in")
    styles.update(_entries(user_dir(), "user"))
    return sorted(styles.values(), key=lambda e: (e.source != "built-in", e.name, e.preset))


def style_names() -> list[str]:
    return sorted({entry.name for entry in list_styles()})


def find_style(name_or_path: str, preset: str = "auto", *, prefer_full: bool = False) -> StyleEntry:
    """A style by name (``preset`` lite/full, or auto: full when ``prefer_full`` and present, else lite),
    or a ``.safetensors`` path whose card sits beside it."""
    path = Path(name_or_path)
    if path.suffix or os.sep in name_or_path:
        if not path.exists():
            raise UnknownStyleError(f"style file {name_or_path} does not exist")
        refuse_pickle(path)
        card_path = path.with_suffix(".json")
        if not card_path.exists():
            raise ModelFileError(f"{path} has no model card {card_path.name} beside it")
        card = _read_card(card_path)
        return StyleEntry(card.get("name", path.stem), card.get("preset", "lite"), "file", path, card)
    candidates = {entry.preset: entry for entry in list_styles() if entry.name == name_or_path}
    if not candidates:
        names = style_names()
        raise UnknownStyleError(
            f"unknown style {name_or_path!r}{did_you_mean(name_or_path, names)}; "
            f"available: {', '.join(names) or 'none installed'}"
        )
    if preset == "auto":
        for choice in ("full", "lite") if prefer_full else ("lite", "full"):
            if choice in candidates:
                return candidates[choice]
        return next(iter(candidates.values()))
    if preset not in candidates:
        raise UnknownStyleError(
            f"style {name_or_path!r} has no {preset} model; it has: {', '.join(sorted(candidates))}"
        )
    return candidates[preset]


def _read_card(path: Path) -> dict:
    card = read_card(path, kind="stylizer")
    if "generator" not in card:
        raise ModelFileError(f"model card {path} does not describe a generator")
    return card


def refuse_pickle(path: Path) -> None:
    """Refuse pickle-based checkpoints: unpickling runs arbitrary code."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if path.suffix in _PICKLE_SUFFIXES or head[:1] == b"\x80" or head[:2] == b"PK":
        raise ModelFileError(
            f"{path} looks like a pickle/torch.save checkpoint; vidgan only loads .safetensors weights "
            "(convert it with safetensors.torch.save_file on a machine you trust)"
        )


def load_safetensors_state(weights: Path, device: torch.device | str, *, label: str) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file on ``device``; a damaged file is a ModelFileError that says
    ``<label> are corrupt``."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(weights), device=str(device))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(f"{label} are corrupt: {exc}") from None


def load_generator(entry: StyleEntry, device: torch.device | str = "cpu") -> RecurrentStylizer:
    """Rebuild the generator from the card and load its weights safely."""
    refuse_pickle(entry.weights)
    try:
        config = StylizerConfig.from_dict(entry.card["generator"])
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"model card of {entry.name!r}: {exc}") from None
    state = load_safetensors_state(entry.weights, device, label=f"weights of style {entry.name!r} ({entry.weights})")
    model = RecurrentStylizer(config)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = first[1].strip() if len(first) > 1 else first[0]
        raise ModelFileError(
            f"weights of style {entry.name!r} do not fit the {config.preset} architecture in its card: {detail}"
        ) from None
    return model.to(device).eval()


def save_style(model: RecurrentStylizer, card: dict, folder: Path, name: str) -> Path:
    """Write ``NAME.safetensors`` and ``NAME.json`` atomically; returns the weights path."""
    card = {"name": name, **card, "generator": dataclasses.asdict(model.config)}
    return save_model(folder, name, model.state_dict(), card)


#: Sides of a model card's ``margin``, in the order :func:`generator_margin` returns them.
MARGIN_SIDES = ("top", "right", "bottom", "left")


def generator_margin(card: dict) -> tuple[int, int, int, int]:
    """(top, right, bottom, left) px of the frame's own reflection the generator sees beyond each edge,
    from the model card's ``margin`` (e.g. ``{"top": 32}``), cropped off its output.

    Why: a generator trained with zero padding can learn a border as a position. the_scream paints
    its painting's orange sky along the top edge of whatever it is given; with 32 px of margin above,
    that band falls outside the frame (16 px left a thin trace). A card without ``margin`` gets none.
    """
    margin = card.get("margin", {})
    if not isinstance(margin, dict) or set(margin) - set(MARGIN_SIDES) or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 256 for v in margin.values()):
        raise ModelFileError(f"model card of {card.get('name', '?')!r}: margin must map {', '.join(MARGIN_SIDES)} to 0..256 px; got {margin!r}")
    top, right, bottom, left = (margin.get(side, 0) for side in MARGIN_SIDES)
    return top, right, bottom, left
