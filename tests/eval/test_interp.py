"""vidgan eval interp: triplet layouts, scoring a model, the command."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from vidgan.errors import EvalInputError, InputNotFoundError
from vidgan.eval.image import psnr
from vidgan.eval.interp import evaluate, find_triplets


def _texture(seed: int, height: int = 64, width: int = 96) -> np.ndarray:
    rng = np.random.default_rng(seed)
    big = cv2.GaussianBlur(rng.random((height + 16, width + 48, 3)).astype(np.float32), (0, 0), 2.0)
    big = (big - big.min()) / (big.max() - big.min())  # full contrast: blurring noise flattens it
    return (big * 255).round().astype(np.uint8)


def _write_triplet(folder, names, shift: int = 4, seed: int = 0) -> None:
    folder.mkdir(parents=True)
    scene = _texture(seed)
    for k, name in enumerate(names):
        view = scene[8:72, 8 + k * shift:8 + k * shift + 96]
        cv2.imwrite(str(folder / name), cv2.cvtColor(np.ascontiguousarray(view), cv2.COLOR_RGB2BGR))


def test_both_layouts_are_found_and_others_refused(tmp_path):
    _write_triplet(tmp_path / "data" / "a", ("frame0.png", "frame1.png", "frame2.png"))
    _write_triplet(tmp_path / "data" / "b", ("frame10.png", "frame10i11.png", "frame11.png"))
    found = find_triplets(tmp_path / "data")
    assert [t.name for t in found] == ["a", "b"]
    assert found[1].truth.name == "frame10i11.png"
    (tmp_path / "data" / "c").mkdir()
    with pytest.raises(EvalInputError, match=r"holds neither triplet layout"):
        find_triplets(tmp_path / "data")
    with pytest.raises(InputNotFoundError):
        find_triplets(tmp_path / "missing")


def test_dis_recovers_a_translation_far_better_than_blending(tmp_path):
    _write_triplet(tmp_path / "data" / "shift", ("frame0.png", "frame1.png", "frame2.png"), shift=3)
    report = evaluate(tmp_path / "data", "dis", save_dir=tmp_path / "out")
    first = cv2.imread(str(tmp_path / "data" / "shift" / "frame0.png")).astype(float)
    last = cv2.imread(str(tmp_path / "data" / "shift" / "frame2.png")).astype(float)
    truth = cv2.imread(str(tmp_path / "data" / "shift" / "frame1.png"))
    blend = ((first + last) / 2 + 0.5).astype(np.uint8)
    assert report.mean_psnr > psnr(blend, truth) + 8
    assert (tmp_path / "out" / "shift.png").is_file()


def test_command_prints_json(tmp_path):
    _write_triplet(tmp_path / "data" / "seq", ("frame0.png", "frame1.png", "frame2.png"))
    run = subprocess.run([sys.executable, "-m", "vidgan", "eval", "interp", str(tmp_path / "data"), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["sequences"][0]["name"] == "seq" and report["mean"]["psnr"] > 30
    bad = subprocess.run([sys.executable, "-m", "vidgan", "eval", "interp", str(tmp_path / "data"), "--model", "rife"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "unknown interpolation model 'rife'" in bad.stderr
