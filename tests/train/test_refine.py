"""``vidgan train interp --model refine``: the loss falls, resume is exact, the critic is optional, the card."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from vidgan.errors import TrainingDataError
from vidgan.models.interp import get_interpolator
from vidgan.models.refine import load_refine
from vidgan.train import loop
from vidgan.train.config import InterpTrainingConfig
from vidgan.train.data.triplets import TripletFrames
from vidgan.train.interp import interp_trainer
from vidgan.train.refine import RefineTrainer


def _photos(path, count: int = 2):
    path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        image = cv2.GaussianBlur(rng.random((80, 112, 3)).astype(np.float32), (0, 0), 2.0)
        cv2.imwrite(str(path / f"{i}.png"), ((image - image.min()) / (image.max() - image.min()) * 255).astype(np.uint8))
    return path


def _config(tmp_path, out: str, **overrides) -> InterpTrainingConfig:
    settings = dict(photos=(str(_photos(tmp_path / f"photos-{out}")),), model="refine", crop=40, batch=2,
                    max_motion=8, disc_width=4)
    settings.update(overrides)
    return InterpTrainingConfig.smoke((), str(tmp_path / out), **settings)


class _FixedBatch:
    """Always the same triplets: the loss on them must fall as the network fits them."""

    def __init__(self, batch: torch.Tensor) -> None:
        self.batch = batch

    def __len__(self) -> int:
        return len(self.batch)

    def sample(self, batch, crop, rng, flows=False):
        return self.batch.clone(), None


def test_a_few_steps_lower_the_loss_on_a_fixed_batch(tmp_path):
    config = _config(tmp_path, "fit", lr=2e-3, lambda_adv=0.0, steps=12)
    source = TripletFrames((), image_side=80, max_frames=0, skips=(1,), photos=config.photos, max_motion=8)
    batch, _ = source.sample(2, 40, np.random.default_rng(1))
    trainer = RefineTrainer(config, frames=_FixedBatch(batch))  # type: ignore[arg-type]
    trainer.setup()
    before = trainer.loss_on(batch)
    first = trainer.step(0)
    assert first["psnr_gain_over_dis"] == pytest.approx(0.0, abs=1e-4)  # the untrained network is dis
    for step in range(1, config.steps):
        trainer.step(step)
    assert trainer.loss_on(batch) < 0.97 * before


def test_interrupted_and_resumed_equals_straight_with_the_critic(tmp_path):
    straight = _config(tmp_path, "straight", lambda_adv=0.01)
    weights = interp_trainer(straight).run(progress="quiet", resume=False)
    config = _config(tmp_path, "resumed", lambda_adv=0.01)
    interrupted = RefineTrainer(config)
    interrupted.setup()
    for step in range(2):
        interrupted.step(step)
    loop.save_checkpoint(interrupted, config, 2)
    resumed = RefineTrainer(config)
    resumed.run(progress="quiet", resume=True)
    first = load_refine(weights).net.state_dict()
    second = load_refine(tmp_path / "resumed" / "interp_refine_lite.safetensors").net.state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert resumed.disc is not None
    other = RefineTrainer(straight)
    other.run(progress="quiet", resume=True)  # already done: nothing trained, the checkpoint read back
    assert all(torch.equal(a, b) for a, b in zip(resumed.disc.state_dict().values(), other.disc.state_dict().values()))
    lines = [json.loads(line) for line in (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 4 and {"l1", "laplacian", "census", "g_adv", "d", "psnr_gain_over_dis"} <= set(lines[0])


def test_no_critic_without_the_adversarial_term_and_the_card(tmp_path):
    config = _config(tmp_path, "plain", lambda_adv=0.0)
    trainer = RefineTrainer(config)
    weights = trainer.run(progress="quiet", resume=False)
    assert trainer.disc is None and "disc" not in trainer.state_dict()
    card = json.loads(weights.with_suffix(".json").read_text())
    assert card["architecture"] == "refine" and card["dis"] == {"preset": "medium"}
    training = card["training"]
    assert training["steps"] == 4 and training["photos"] == list(config.photos) and training["sources"] == []
    assert training["cpu_hours"] > 0 and "no adversarial term" in training["recipe"]
    # the exported file runs behind the filter's interface
    model = get_interpolator(str(weights))
    a, b = torch.rand(1, 3, 40, 56), torch.rand(1, 3, 40, 56)
    out = model.synthesize(model.prepare(a, b), 0.5)
    assert out.shape == a.shape and torch.isfinite(out).all()
    # a checkpoint without a critic is not resumed with one
    with pytest.raises(TrainingDataError, match=r"trained without a critic"):
        RefineTrainer(_config(tmp_path, "plain", lambda_adv=0.01, steps=6)).run(progress="quiet", resume=True)


def test_crop_too_small_for_dis(tmp_path):
    with pytest.raises(TrainingDataError, match=r"--crop must be >= 32"):
        RefineTrainer(_config(tmp_path, "small", crop=16)).setup()


def test_cli_trains_refine_and_refuses_a_folder_of_two_frame_sizes(tmp_path):
    photos = _photos(tmp_path / "photos")
    run = subprocess.run([sys.executable, "-m", "vidgan", "train", "interp", "--model", "refine", "--photos",
                          str(photos), "--smoke", "--lambda-adv", "0", "--out", str(tmp_path / "run"), "-q"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "run" / "interp_refine_lite.safetensors").is_file()
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for i in range(4):
        cv2.imwrite(str(mixed / f"{i:04d}.png"), np.full((48, 64 if i < 2 else 80, 3), 30 * i, np.uint8))
    bad = subprocess.run([sys.executable, "-m", "vidgan", "train", "interp", "--model", "refine", "--frames",
                          str(mixed), "--smoke", "--out", str(tmp_path / "bad"), "-q"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "frame 3 is 80x48 but the first frame is 64x48" in bad.stderr
    assert not (tmp_path / "bad" / "interp_refine_lite.safetensors").exists()


def test_vgg_feature_term_is_an_option_named_in_the_card(tmp_path, monkeypatch):
    from tests.models.test_lossnet import random_vgg_file
    from vidgan.errors import ModelFileError

    monkeypatch.delenv("VIDGAN_LOSS_NET", raising=False)
    with pytest.raises(ModelFileError, match=r"no loss network given"):
        RefineTrainer(_config(tmp_path, "none", lambda_perceptual=1.0)).setup()
    vgg = random_vgg_file(tmp_path / "vgg.safetensors")
    config = _config(tmp_path, "vgg", lambda_perceptual=0.1, lambda_census=0.0, loss_net=str(vgg), steps=2,
                     checkpoint_every=1)
    weights = RefineTrainer(config).run(progress="quiet", resume=False)
    card = json.loads(weights.with_suffix(".json").read_text())
    assert card["training"]["loss_net"]["file"] == "vgg.safetensors"
    assert "VGG features x0.1" in card["training"]["recipe"]
    metrics = json.loads((tmp_path / "vgg" / "metrics.jsonl").read_text().splitlines()[0])
    assert "perceptual" in metrics and "census" not in metrics


def test_flow_distillation_pulls_the_corrected_flows_toward_the_exact_ones(tmp_path):
    config = _config(tmp_path, "flow", lr=2e-3, lambda_adv=0.0, lambda_l1=0.0, lambda_laplacian=0.0,
                     lambda_census=0.0, lambda_flow=1.0, steps=12)
    source = TripletFrames((), image_side=80, max_frames=0, skips=(1,), photos=config.photos, max_motion=8)
    batch, exact = source.sample(2, 40, np.random.default_rng(1), flows=True)
    assert exact is not None

    class _FixedWithFlows(_FixedBatch):
        def sample(self, batch_size, crop, rng, flows=False):
            return self.batch.clone(), exact.clone() if flows else None

    trainer = RefineTrainer(config, frames=_FixedWithFlows(batch))  # type: ignore[arg-type]
    trainer.setup()
    first = trainer.step(0)
    assert set(first) >= {"flow", "l1"} and first["flow"] > 0
    for step in range(1, config.steps):
        last = trainer.step(step)
    assert last["flow"] < 0.9 * first["flow"]
    off = RefineTrainer(_config(tmp_path, "no-flow", lambda_flow=0.0, lambda_adv=0.0))
    off.setup()
    assert "flow" not in off.step(0)
