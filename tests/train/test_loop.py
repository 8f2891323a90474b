"""The training loop on a tiny recipe: exact resume, divergence, checkpoint cadence, metrics, export."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from vidgan.errors import TrainingDivergedError
from vidgan.models.cards import read_card, save_model
from vidgan.train import loop


@dataclass(frozen=True)
class TinyConfig:
    out: str
    steps: int = 6
    checkpoint_every: int = 2
    sample_every: int = 3
    seed: int = 0
    explode_at: int = -1  # the step whose loss is made NaN


class TinyRecipe:
    """A linear regression on noisy random data: uses the NumPy generator, torch's RNG (dropout) and Adam."""

    def __init__(self, config: TinyConfig) -> None:
        self.config = config
        self.name = "tiny"
        self.device = torch.device("cpu")
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.setups = 0

    def setup(self) -> None:
        self.setups += 1
        self.net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.3), torch.nn.Linear(8, 1))
        self.opt = torch.optim.Adam(self.net.parameters(), lr=0.05)

    def step(self, step: int) -> dict[str, float]:
        x = torch.from_numpy(self.rng.normal(size=(16, 4)).astype(np.float32))
        y = x.sum(dim=1, keepdim=True)
        loss = (self.net(x) - y).pow(2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        value = float("nan") if step + 1 == self.config.explode_at else float(loss.detach())
        return {"loss": value}

    def sample(self) -> loop.Sample:
        return loop.Sample({"norm": float(self.net[0].weight.detach().norm())}, {"weights": torch.rand(3, 4, 4)})

    def state_dict(self) -> dict[str, Any]:
        return {"net": self.net.state_dict(), "opt": self.opt.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])

    def export(self, folder: Path, *, training: dict[str, Any]) -> Path:
        return save_model(folder, "tiny", self.net.state_dict(), {"kind": "tiny", "name": "tiny", "training": training})


def _weights(recipe: TinyRecipe) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in recipe.net.state_dict().items()}


def test_recipe_fits_the_protocol(tmp_path):
    assert isinstance(TinyRecipe(TinyConfig(str(tmp_path))), loop.Recipe)


def test_half_run_and_resume_gives_the_same_weights_as_a_straight_run(tmp_path):
    straight = TinyRecipe(TinyConfig(str(tmp_path / "a")))
    loop.run(straight, straight.config, progress="quiet")
    first_half = TinyRecipe(TinyConfig(str(tmp_path / "b"), steps=3))
    loop.run(first_half, first_half.config, progress="quiet")
    resumed = TinyRecipe(TinyConfig(str(tmp_path / "b")))
    loop.run(resumed, resumed.config, progress="quiet", resume=True)
    assert resumed.setups == 1
    for name, value in _weights(straight).items():
        assert torch.equal(value, resumed.net.state_dict()[name]), name
    # without resume the same folder starts again from step 0
    fresh = TinyRecipe(TinyConfig(str(tmp_path / "b"), steps=1))
    loop.run(fresh, fresh.config, progress="quiet", resume=False)
    assert torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)["step"] == 1


def test_metrics_samples_config_and_card(tmp_path):
    config = TinyConfig(str(tmp_path))
    weights = loop.run(TinyRecipe(config), config, progress="quiet")
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "loss" in r] == [1, 2, 3, 4, 5, 6]
    assert [r["step"] for r in records if "norm" in r] == [3, 6]
    assert sorted(p.name for p in (tmp_path / "samples").glob("*.png")) == ["step000003.png", "step000006.png"]
    assert json.loads((tmp_path / "config.json").read_text()) == dataclasses.asdict(config)
    card = read_card(weights.with_suffix(".json"), kind="tiny")
    assert card["training"]["steps"] == 6 and card["training"]["config"] == dataclasses.asdict(config)
    assert card["card_version"] >= 1


def test_a_non_finite_loss_stops_with_one_line_and_keeps_the_checkpoint(tmp_path):
    config = TinyConfig(str(tmp_path), explode_at=5)
    with pytest.raises(TrainingDivergedError) as caught:
        loop.run(TinyRecipe(config), config, progress="quiet")
    message = str(caught.value)
    assert "\n" not in message and "step 5" in message and "loss" in message and "step 4" in message
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["step"] == 4
    assert not (tmp_path / "tiny.safetensors").exists()


def test_divergence_before_any_checkpoint_says_so(tmp_path):
    config = TinyConfig(str(tmp_path), explode_at=1)
    with pytest.raises(TrainingDivergedError, match=r"^training diverged at step 1: non-finite loss; no checkpoint"):
        loop.run(TinyRecipe(config), config, progress="quiet")


def test_training_does_not_import_evaluation():
    import subprocess
    import sys

    code = ("import sys, vidgan.train.style, vidgan.train.interp, vidgan.train.teacher, vidgan.train.pack, "
            "vidgan.commands.train; print(sorted(m for m in sys.modules if m.startswith('vidgan.eval')))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_the_train_command_starts_without_torch():
    import subprocess
    import sys

    code = "import sys, vidgan.commands.train; print('torch' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"


def test_cpu_hours_add_up_across_a_resume(tmp_path):
    first = TinyRecipe(TinyConfig(str(tmp_path), steps=3))
    loop.run(first, first.config, progress="quiet")
    spent = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["cpu_seconds"]
    assert spent > 0
    resumed = TinyRecipe(TinyConfig(str(tmp_path)))
    weights = loop.run(resumed, resumed.config, progress="quiet", resume=True)
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["cpu_seconds"] > spent
    card = read_card(weights.with_suffix(".json"), kind="tiny")
    assert card["training"]["cpu_hours"] > spent / 3600
