"""Styles by name: saving, listing, safe loading, and the errors for bad model files."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from vidgan.models.stylizer import build_generator
from vidgan.models.zoo import ModelFileError, UnknownStyleError, find_style, list_styles, load_generator, save_style


@pytest.fixture
def user_styles(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("VIDGAN_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data" / "styles"


def _save(folder: Path, name: str = "test_style", preset: str = "lite") -> tuple[torch.nn.Module, Path]:
    torch.manual_seed(3)
    model = build_generator(preset)
    path = save_style(model, {"kind": "stylizer", "preset": preset, "training": {"steps": 7, "style_images": 2}},
                      folder, f"{name}_{preset}")
    card = json.loads(path.with_suffix(".json").read_text())
    card["name"] = name
    path.with_suffix(".json").write_text(json.dumps(card))
    return model, path


def test_saved_style_is_listed_and_loads_identically(user_styles):
    model, _ = _save(user_styles)
    entry = find_style("test_style")
    assert entry.source == "user" and entry.preset == "lite"
    assert "test_style" in [e.name for e in list_styles()]
    loaded = load_generator(entry)
    x = torch.rand(1, 3, 20, 28)
    with torch.no_grad():
        assert torch.allclose(loaded(x), model.eval()(x), atol=1e-6)


def test_preset_choice(user_styles):
    _save(user_styles, preset="lite")
    _save(user_styles, preset="full")
    assert find_style("test_style", "auto").preset == "lite"
    assert find_style("test_style", "auto", prefer_full=True).preset == "full"
    assert find_style("test_style", "full").preset == "full"


def test_unknown_style_lists_the_available_ones(user_styles):
    _save(user_styles)
    with pytest.raises(UnknownStyleError, match=r"unknown style 'test_stlye'; did you mean 'test_style'\?; available: .*test_style"):
        find_style("test_stlye")


def test_corrupt_weights_are_a_clear_error(user_styles):
    _, path = _save(user_styles)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ModelFileError, match="are corrupt"):
        load_generator(find_style("test_style"))


def test_weights_of_another_architecture_are_refused(user_styles):
    _, path = _save(user_styles)
    card = json.loads(path.with_suffix(".json").read_text())
    card["generator"]["width"] = 32
    path.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="do not fit the lite architecture"):
        load_generator(find_style("test_style"))


class _Boom:
    """Unpickling this creates a file: the test proves vidgan never unpickles."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_pickle_files_are_refused_unread(tmp_path, suffix):
    marker = tmp_path / "unpickled"
    bad = tmp_path / f"evil{suffix}"
    bad.write_bytes(pickle.dumps(_Boom(str(marker))))
    bad.with_suffix(".json").write_text(json.dumps({"name": "evil", "preset": "lite", "generator": {}}))
    with pytest.raises(ModelFileError, match="pickle"):
        load_generator(find_style(str(bad)))
    assert not marker.exists()
