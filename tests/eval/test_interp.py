"""vidgan eval interp: triplet layouts, scoring a model, the command."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from vidgan.errors import EvalInputError, InputNotFoundError
from vidgan.eval import minterpolate
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


def test_frames_of_different_sizes_stop_the_run_before_anything_is_written(tmp_path):
    _write_triplet(tmp_path / "data" / "a_good", ("frame0.png", "frame1.png", "frame2.png"))
    _write_triplet(tmp_path / "data" / "b_bad", ("frame0.png", "frame1.png", "frame2.png"))
    truth = cv2.imread(str(tmp_path / "data" / "b_bad" / "frame1.png"))
    cv2.imwrite(str(tmp_path / "data" / "b_bad" / "frame1.png"), truth[:, :80])
    with pytest.raises(EvalInputError, match=r"b_bad: the three frames differ in size \(frame0.png 96x64, "
                                             r"frame1.png 80x64, frame2.png 96x64\)"):
        evaluate(tmp_path / "data", "dis", save_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    run = subprocess.run([sys.executable, "-m", "vidgan", "eval", "interp", str(tmp_path / "data")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and len(run.stderr.strip().splitlines()) == 1 and "differ in size" in run.stderr


@pytest.mark.skipif(not minterpolate.available(), reason="needs the ffmpeg binary")
def test_minterpolate_reference_follows_a_translation():
    scene = _texture(3)
    first, truth, last = (np.ascontiguousarray(scene[8:72, 8 + 4 * k:8 + 4 * k + 96]) for k in range(3))
    middle = minterpolate.middle_frame(first, last)
    assert middle.shape == truth.shape and middle.dtype == np.uint8
    blend = ((first.astype(float) + last) / 2 + 0.5).astype(np.uint8)
    assert psnr(middle, truth) > psnr(blend, truth) + 3


@pytest.mark.skipif(not minterpolate.available(), reason="needs the ffmpeg binary")
def test_models_side_by_side_with_minterpolate_in_one_run(tmp_path):
    _write_triplet(tmp_path / "data" / "seq", ("frame0.png", "frame1.png", "frame2.png"))
    command = [sys.executable, "-m", "vidgan", "eval", "interp", str(tmp_path / "data"), "--model", "dis,minterpolate"]
    table = subprocess.run(command + ["--save-dir", str(tmp_path / "out")], capture_output=True, text=True,
                           timeout=120)
    assert table.returncode == 0, table.stderr
    assert "dis" in table.stdout and "minterpolate" in table.stdout and "ms per frame" in table.stdout
    assert (tmp_path / "out" / "dis" / "seq.png").is_file() and (tmp_path / "out" / "minterpolate" / "seq.png").is_file()
    run = subprocess.run(command + ["--json"], capture_output=True, text=True, timeout=120)
    reports = json.loads(run.stdout)["reports"]
    assert [r["model"] for r in reports] == ["dis", "minterpolate"]
    first, truth, last = (cv2.imread(str(tmp_path / "data" / "seq" / f"frame{k}.png"))[..., ::-1] for k in range(3))
    blend = ((first.astype(float) + last) / 2 + 0.5).astype(np.uint8)
    assert reports[0]["mean"]["psnr"] > psnr(blend, truth) + 3
    reference = minterpolate.middle_frame(np.ascontiguousarray(first), np.ascontiguousarray(last))
    assert reports[1]["mean"]["psnr"] == pytest.approx(psnr(reference, truth), abs=1e-9)
    twice = subprocess.run(command[:-1] + ["dis,dis"], capture_output=True, text=True, timeout=120)
    assert twice.returncode != 0 and "names a model twice" in twice.stderr
