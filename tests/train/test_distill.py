"""Distillation terms: the low-passed L1, the perceptual term, the recurrent teacher and its loading."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from tests.eval.synthetic import random_loss_net
from vidgan.errors import ModelFileError, TrainingDataError, UnknownStyleError
from vidgan.models.discriminator import DiscriminatorConfig
from vidgan.models.lossnet import load_loss_net
from vidgan.models.stylizer import RecurrentStylizer, StylizerConfig
from vidgan.models.zoo import save_style
from vidgan.ops import reference
from vidgan.train import distill
from vidgan.train.losses import GAN_LOSSES

#: A teacher small enough for tests, labelled full like the real one.
TINY_FULL = StylizerConfig("full", width=8, blocks=1, separable=False, head="half", padding="zeros")


def save_teacher(folder: Path, name: str = "tiny_teacher", seed: int = 0) -> Path:
    """A tiny trained-looking style: random weights everywhere (an untrained head would be the identity)."""
    generator = torch.Generator().manual_seed(seed)
    model = RecurrentStylizer(TINY_FULL)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.3)
    return save_style(model, {"kind": "stylizer", "preset": "full", "training": {"steps": 1}}, folder, name)


def test_lowpass_l1_ignores_strokes_finer_than_the_block_but_not_colour():
    grey = torch.full((1, 3, 16, 16), 0.5)
    strokes = grey.clone()
    strokes[..., ::2, :] += 0.2  # a 2 px stripe pattern of mean 0.6 over every 4x4 block...
    strokes[..., 1::2, :] -= 0.2  # ... balanced back to 0.5
    assert distill.lowpass_l1(strokes, grey) == pytest.approx(0.0, abs=1e-6)
    assert (strokes - grey).abs().mean() > 0.1
    assert distill.lowpass_l1(grey + 0.1, grey) == pytest.approx(0.1, abs=1e-6)
    assert distill.lowpass(torch.rand(2, 3, 18, 14)).shape == (2, 3, 5, 4)  # partial edge blocks kept


def test_perceptual_distance_is_zero_on_the_target_and_pulls_only_the_output(tmp_path):
    net = load_loss_net(random_loss_net(tmp_path / "vgg.safetensors"))
    target = torch.rand(2, 3, 24, 24, requires_grad=True)
    assert float(distill.perceptual_distance(net, target.detach(), target.detach())) == 0.0
    output = torch.rand(2, 3, 24, 24, requires_grad=True)
    loss = distill.perceptual_distance(net, output, target)
    loss.backward()
    assert float(loss.detach()) > 0 and output.grad is not None and output.grad.abs().sum() > 0
    assert target.grad is None
    features = net(output)
    assert torch.equal(distill.perceptual_distance(net, output, target, features), loss)


def test_the_teacher_paints_two_frames_recurrently_and_frozen(tmp_path):
    weights = save_teacher(tmp_path)
    teacher = distill.Teacher.load(str(weights), "cpu")
    assert not any(p.requires_grad for p in teacher.model.parameters()) and not teacher.model.training
    record = teacher.record
    assert record["name"] == "tiny_teacher" and record["preset"] == "full" and record["file"] == weights.name
    assert record["sha256"] == distill.file_sha256(weights) and len(record["sha256"]) == 64
    previous, current = torch.rand(2, 3, 20, 24), torch.rand(2, 3, 20, 24)
    flow = torch.randn(2, 2, 20, 24)
    valid = torch.ones(2, 1, 20, 24)
    first, second = teacher.paint(previous, current, flow, valid)
    with torch.no_grad():
        assert torch.equal(first, teacher.model(previous))
        warped, inside = reference.warp(first, flow, border="edge")
        assert torch.equal(second, teacher.model(current, warped, valid * inside))
        assert not torch.equal(second, teacher.model(current))  # the previous frame matters
    assert not first.requires_grad and not second.requires_grad


def test_a_resume_with_another_teacher_is_refused_in_one_line(tmp_path):
    teacher = distill.Teacher.load(str(save_teacher(tmp_path)), "cpu")
    teacher.check_resume(teacher.sha256)
    for recorded in ("0" * 64, None):
        with pytest.raises(TrainingDataError, match="resume with the same teacher") as caught:
            teacher.check_resume(recorded)
        assert "\n" not in str(caught.value)


def test_missing_pickled_or_corrupt_teachers_are_one_line_errors(tmp_path):
    with pytest.raises(UnknownStyleError, match="does not exist"):
        distill.Teacher.load(str(tmp_path / "none.safetensors"), "cpu")
    with pytest.raises(UnknownStyleError, match="unknown style"):
        distill.Teacher.load("no_such_style_anywhere", "cpu")
    pickled = tmp_path / "teacher.pt"
    pickled.write_bytes(pickle.dumps({"weights": 1}))
    with pytest.raises(ModelFileError, match="pickle"):
        distill.Teacher.load(str(pickled), "cpu")
    weights = save_teacher(tmp_path / "corrupt")
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(ModelFileError, match="corrupt"):
        distill.Teacher.load(str(weights), "cpu")
    card_only = save_teacher(tmp_path / "nocard")
    card_only.with_suffix(".json").unlink()
    with pytest.raises(ModelFileError, match="no model card"):
        distill.Teacher.load(str(card_only), "cpu")


def test_the_conditional_critic_sees_photo_and_painting_and_learns():
    torch.manual_seed(0)
    critic = distill.ConditionalCritic(DiscriminatorConfig(width=8), GAN_LOSSES.get("lsgan")(), lr=1e-3,
                                       schedule=lambda step: 1.0, device=torch.device("cpu"))
    assert critic.net.heads[0].net[0].in_channels == 6
    photo, real, fake = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    before = {k: v.clone() for k, v in critic.net.state_dict().items()}
    loss = critic.update(photo, real, fake, torch.autocast("cpu", enabled=False))
    assert torch.isfinite(loss)
    assert any(not torch.equal(v, critic.net.state_dict()[k]) for k, v in before.items())
    critic.frozen(True)
    critic.opt.zero_grad(set_to_none=True)
    output = fake.clone().requires_grad_(True)
    critic.generator_loss(photo, output).backward()
    assert output.grad is not None and output.grad.abs().sum() > 0
    assert all(p.grad is None for p in critic.net.parameters())  # the student's step leaves the critic alone
