"""Interpolation network and its training: blend at start, the smoke run, exact resume, safe loading."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from vidgan.errors import VidganError
from vidgan.models.interp import get_interpolator
from vidgan.models.interpnet import build_interpnet, load_interpnet
from vidgan.models.zoo import ModelFileError
from vidgan.train import loop
from vidgan.train.interp import InterpTrainer, InterpTrainingConfig


def _frames_folder(path, count: int = 12, step: int = 3):
    path.mkdir(parents=True)
    rng = np.random.default_rng(0)
    big = cv2.GaussianBlur(rng.random((120, 200 + step * count, 3)).astype(np.float32), (0, 0), 2.0)
    big = ((big - big.min()) / (big.max() - big.min()) * 255).astype(np.uint8)
    for i in range(count):
        cv2.imwrite(str(path / f"{i:04d}.png"), big[10:106, i * step:i * step + 128])
    return path


def test_untrained_network_is_the_plain_blend_at_any_size():
    torch.manual_seed(0)
    net = build_interpnet("lite").eval()
    a, b = torch.rand(1, 3, 50, 70), torch.rand(1, 3, 50, 70)
    with torch.no_grad():
        out = net(a, b, 0.25)
    assert out.shape == a.shape
    assert torch.allclose(out, 0.75 * a + 0.25 * b, atol=1e-4)


def test_smoke_training_checkpoints_resumes_exactly_and_exports(tmp_path):
    frames = _frames_folder(tmp_path / "frames")
    straight = InterpTrainingConfig.smoke((str(frames),), str(tmp_path / "straight"))
    weights = InterpTrainer(straight).run(progress="quiet", resume=False)
    # the same run interrupted after 2 steps and resumed gives the same network
    config = InterpTrainingConfig.smoke((str(frames),), str(tmp_path / "resumed"))
    interrupted = InterpTrainer(config)
    interrupted.setup()
    for step in range(2):
        interrupted.step(step)
    loop.save_checkpoint(interrupted, config, 2)
    InterpTrainer(config).run(progress="quiet", resume=True)
    first = load_interpnet(weights).state_dict()
    second = load_interpnet(tmp_path / "resumed" / "interp_lite.safetensors").state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
    lines = (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 4
    # the exported weights run behind the filter's model interface
    model = get_interpolator(str(weights))
    a, b = torch.rand(1, 3, 40, 60), torch.rand(1, 3, 40, 60)
    with torch.no_grad():
        out = model.synthesize(model.prepare(a, b), 0.5)
    assert out.shape == a.shape and torch.isfinite(out).all()


def test_learned_model_without_weights_or_with_bad_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDGAN_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(VidganError, match=r"no trained weights for interpolation model 'lite'.*model=dis"):
        get_interpolator("lite")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file at all")
    bad.with_suffix(".json").write_text('{"network": {"preset": "lite"}}')
    with pytest.raises(ModelFileError, match=r"corrupt"):
        get_interpolator(str(bad))
    pickled = tmp_path / "pickled.safetensors"
    torch.save({"x": torch.zeros(1)}, pickled)
    with pytest.raises(ModelFileError, match=r"pickle"):
        get_interpolator(str(pickled))


def test_cli_smoke_and_missing_sources(tmp_path):
    frames = _frames_folder(tmp_path / "frames")
    run = subprocess.run([sys.executable, "-m", "vidgan", "train", "interp", "--frames", str(frames), "--smoke",
                          "--out", str(tmp_path / "run"), "-q"], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "run" / "interp_lite.safetensors").is_file()
    empty = subprocess.run([sys.executable, "-m", "vidgan", "train", "interp", "--smoke", "--out",
                            str(tmp_path / "none"), "-q"], capture_output=True, text=True, timeout=180)
    assert empty.returncode != 0 and "no training videos, frame folders or photos given" in empty.stderr


def test_photos_alone_are_enough_to_train(tmp_path):
    photos = _frames_folder(tmp_path / "photos", count=3)
    config = InterpTrainingConfig.smoke((), str(tmp_path / "run"), photos=(str(photos),))
    assert InterpTrainer(config).run(progress="quiet", resume=False).is_file()
