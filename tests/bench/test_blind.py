"""python -m vidgan.bench.blind: blind pair images with a key kept apart, and the sign test of a rater's choices."""

from __future__ import annotations

import json
import math
import re

import cv2
import numpy as np
import pytest

from tests.eval.synthetic import moving_square, texture, write_images, write_video
from tests.eval.tiny_styles import install_styles
from vidgan.bench.blind import main, make_pairs, read_key, score, sign_test
from vidgan.errors import VidganError


@pytest.fixture
def setup(tmp_path, monkeypatch):
    install_styles(tmp_path, monkeypatch, {"alpha": ("lite", "full"), "beta": ("lite",)})
    photos = write_images(tmp_path / "photos", [texture(s, 90, 120) for s in range(3)])
    video = write_video(tmp_path / "clip.mp4", moving_square(frames=6))
    return tmp_path, [str(photos), str(video)]


def test_pairs_are_blind_seeded_and_keyed_apart(setup):
    tmp_path, inputs = setup
    key_path = make_pairs("alpha:full", "beta", inputs, tmp_path / "pairs", n=6, seed=3, crop=48, side=64)
    assert key_path == tmp_path / "pairs-key.json"
    assert sorted(p.name for p in (tmp_path / "pairs").iterdir()) == [f"pair-{i}.png" for i in range(1, 7)]
    key = read_key(key_path)
    assert key["a"]["name"] == "alpha" and key["a"]["preset"] == "full" and key["b"]["preset"] == "lite"
    assert [p["pair"] for p in key["pairs"]] == list(range(1, 7))
    assert {p["a_side"] for p in key["pairs"]} <= {"L", "R"}

    again = make_pairs("alpha:full", "beta", inputs, tmp_path / "again", n=6, seed=3, crop=48, side=64)
    assert read_key(again)["pairs"] == key["pairs"]
    for pair in key["pairs"]:
        first = cv2.imread(str(tmp_path / "pairs" / pair["file"]))
        np.testing.assert_array_equal(first, cv2.imread(str(tmp_path / "again" / pair["file"])))
        assert first.shape[1] == 2 * 48 + 12
    other = read_key(make_pairs("alpha:full", "beta", inputs, tmp_path / "other", n=6, seed=4, crop=48, side=64))
    assert other["pairs"] != key["pairs"]


def test_the_key_says_where_a_is(setup):
    """Re-make each pair's crop from the key and stylize it with A: it is the side the key names."""
    tmp_path, inputs = setup
    key = read_key(make_pairs("alpha", "beta", inputs[:1], tmp_path / "pairs", n=4, seed=0, crop=40, side=64))
    from vidgan.eval.stylized import open_stage, stylize_frames
    from vidgan.io.images import fit_short_side, read_image
    from vidgan.models.zoo import find_style

    stage = open_stage(find_style("alpha", "lite"), motion="none")
    for pair in key["pairs"]:
        image = cv2.imread(str(tmp_path / "pairs" / pair["file"]))[..., ::-1].astype(int)
        body = image[image.shape[0] - 40:]
        sides = {"L": body[:, :40], "R": body[:, 52:]}
        x, y, size = pair["crop"]
        crop = fit_short_side(read_image(pair["input"]), 64)[y:y + size, x:x + size]
        expected = next(stylize_frames(stage, [crop])).astype(int)
        other = "R" if pair["a_side"] == "L" else "L"
        assert np.abs(sides[pair["a_side"]] - expected).max() == 0
        assert np.abs(sides[other] - expected).mean() > 1


def _choices(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def test_score_counts_a_and_tests_against_half(setup, capsys):
    tmp_path, inputs = setup
    key_path = make_pairs("alpha", "beta", inputs, tmp_path / "pairs", n=8, seed=1, crop=32, side=48)
    sides = {p["pair"]: p["a_side"] for p in read_key(key_path)["pairs"]}
    flip = {"L": "R", "R": "L"}
    lines = [f"{i} {sides[i] if i <= 7 else flip[sides[i]]}" for i in range(1, 9)]  # A chosen 7 of 8
    choices = _choices(tmp_path / "choices.txt", ["# rater 1", ""] + lines)
    _, result = score(key_path, choices)
    assert (result.pairs, result.a_preferred, result.b_preferred) == (8, 7, 1)
    assert result.p_value == pytest.approx(2 * 9 / 256)
    assert main(["score", "--key", str(key_path), "--choices", str(choices)]) == 0
    table = capsys.readouterr().out
    assert "A preferred" in table and "87.5%" in table and "0.0703" in table
    assert main(["score", "--key", str(key_path), "--choices", str(choices), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["a_preferred"] == 7


def test_sign_test_matches_the_binomial():
    assert sign_test(10, 20) == 1.0
    assert sign_test(15, 20) == pytest.approx(2 * sum(math.comb(20, i) for i in range(6)) / 2**20)
    assert sign_test(0, 5) == sign_test(5, 5) == pytest.approx(2 / 32)


def test_one_line_errors(setup, capsys):
    tmp_path, inputs = setup
    key_path = make_pairs("alpha", "beta", inputs, tmp_path / "pairs", n=3, seed=0, crop=32, side=48)
    cases = [
        (["--key", str(tmp_path / "nokey.json"), "--choices", "x"], "key file .*nokey.json does not exist"),
        (["--key", str(key_path), "--choices", str(_choices(tmp_path / "c1", ["1 L", "2 R"]))],
         r"has 2 choices but the key has 3 pairs \(missing: 3\)"),
        (["--key", str(key_path), "--choices", str(_choices(tmp_path / "c2", ["1 L", "2 X", "3 R"]))],
         r"line 2: expected 'NUMBER L' or 'NUMBER R', got '2 X'"),
        (["--key", str(key_path), "--choices", str(_choices(tmp_path / "c3", ["1 L", "2 R", "3 R", "4 L"]))],
         r"line 4: pair 4 is not in the key"),
        (["--key", str(key_path), "--choices", str(_choices(tmp_path / "c4", ["1 L", "1 R", "3 R"]))],
         r"line 2: pair 1 chosen twice"),
        (["--key", str(tmp_path / "c1"), "--choices", str(tmp_path / "c1")], "is not JSON"),
    ]
    for args, message in cases:
        assert main(["score", *args]) != 0
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("vidgan: error: blind:")
        assert re.search(message, err), err
    with pytest.raises(VidganError, match="exists and is not empty"):
        make_pairs("alpha", "beta", inputs, tmp_path / "pairs", n=2)
    with pytest.raises(VidganError, match="must not be inside the image folder"):
        make_pairs("alpha", "beta", inputs, tmp_path / "new", key=tmp_path / "new" / "key.json", n=2)
    assert main(["make", "--a", "alpha", "--b", "nope", "--inputs", *inputs, "--out", str(tmp_path / "x")]) != 0
    assert "unknown style 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "x-key.json").exists()
