"""Model cards: round trip, versioning, validation, atomic writes, and the shipped cards."""

from __future__ import annotations

import json
import os

import pytest
import torch

from vidgan.errors import ModelFileError
from vidgan.models import cards
from vidgan.models.zoo import builtin_dir, list_styles, load_generator


def _state() -> dict[str, torch.Tensor]:
    return {"weight": torch.arange(6, dtype=torch.float64).view(2, 3)}


def test_round_trip_writes_the_version_and_float32_weights(tmp_path):
    from safetensors.torch import load_file

    weights = cards.save_model(tmp_path, "m", _state(), {"kind": "thing", "name": "m", "training": {"steps": 3}})
    card = cards.read_card(cards.card_path(weights), kind="thing", require=("training",))
    assert card["card_version"] == cards.CARD_VERSION and card["training"] == {"steps": 3}
    assert load_file(str(weights))["weight"].dtype == torch.float32
    assert not list(tmp_path.glob("*.partial"))


def test_cards_without_a_version_read_as_version_one(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"format": 1, "kind": "stylizer"}))
    assert cards.read_card(path)["card_version"] == 1
    path.write_text(json.dumps({"kind": "stylizer"}))
    assert cards.read_card(path)["card_version"] == 1


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "unreadable"),
    ("[1, 2]", "not a JSON object"),
    (json.dumps({"card_version": 99}), "version 99; this vidgan reads up to version 1"),
    (json.dumps({"card_version": "x"}), "invalid card_version"),
    (json.dumps({"kind": "interpolator"}), "describes a interpolator, not a stylizer"),
    (json.dumps({"kind": "stylizer"}), "lacks generator"),
])
def test_bad_cards_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "card.json"
    path.write_text(content)
    with pytest.raises(ModelFileError, match=message) as caught:
        cards.read_card(path, kind="stylizer", require=("generator",))
    assert "\n" not in str(caught.value)


def test_missing_card(tmp_path):
    with pytest.raises(ModelFileError, match="is missing"):
        cards.read_card(tmp_path / "none.json")


def test_a_failed_write_leaves_the_previous_model_whole(tmp_path, monkeypatch):
    weights = cards.save_model(tmp_path, "m", _state(), {"kind": "thing", "name": "m"})
    before = weights.read_bytes(), cards.card_path(weights).read_text()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(cards.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        cards.save_model(tmp_path, "m", {"weight": torch.ones(7)}, {"kind": "thing", "name": "m", "new": True})
    monkeypatch.setattr(cards.os, "replace", os.replace)
    assert (weights.read_bytes(), cards.card_path(weights).read_text()) == before


def test_shipped_style_cards_still_load():
    shipped = [entry for entry in list_styles() if entry.source == "built-in"]
    assert {entry.weights.parent for entry in shipped} == {builtin_dir()}
    assert len(shipped) == len(list(builtin_dir().glob("*.safetensors")))
    for entry in shipped:
        assert entry.card["card_version"] == 1
        with torch.no_grad():
            assert load_generator(entry)(torch.rand(1, 3, 16, 16)).shape == (1, 3, 16, 16)
