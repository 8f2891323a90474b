"""Style training end to end at tiny size: the loop, checkpoint round trip, export, the CLI."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from vidgan.commands.train import GAN_LOSSES
from vidgan.errors import TrainingDataError
from vidgan.models.zoo import find_style, load_generator
from vidgan.train import distill, losses
from vidgan.train.losses import GanLoss
from vidgan.train.style import StyleTrainer, StyleTrainingConfig


@pytest.fixture
def folders(tmp_path: Path) -> tuple[str, str]:
    rng = np.random.default_rng(0)
    content, style = tmp_path / "photos", tmp_path / "paintings"
    content.mkdir()
    style.mkdir()
    for index in range(3):
        photo = cv2.GaussianBlur((rng.random((72, 96, 3)) * 255).astype(np.uint8), (7, 7), 0)
        cv2.imwrite(str(content / f"p{index}.png"), photo)
        stripes = np.zeros((80, 64, 3), np.uint8)
        stripes[:, ::4] = (30, 160, 220)
        cv2.imwrite(str(style / f"s{index}.png"), np.roll(stripes, index, axis=1))
    (style / "broken.jpg").write_bytes(b"not an image")
    return str(content), str(style)


def _ready(config: StyleTrainingConfig) -> StyleTrainer:
    trainer = StyleTrainer(config)
    trainer.setup()
    return trainer


def _weights(trainer: StyleTrainer) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in trainer.nets.G.state_dict().items()}


def test_smoke_run_resumes_exactly_and_exports_a_loadable_style(folders, tmp_path):
    content, style = folders
    straight = StyleTrainingConfig.smoke((content,), (style,), str(tmp_path / "a"))
    trainer = StyleTrainer(straight)
    weights_path = trainer.run(progress="quiet")
    history = [json.loads(line) for line in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    losses = [r for r in history if "g_total" in r]
    assert len(losses) == straight.steps
    assert all(np.isfinite(r[k]) for r in losses for k in ("g_total", "d", "cycle", "temporal"))
    assert any("diversity" in r for r in history)
    assert list((tmp_path / "a" / "samples").glob("*.png"))

    halfway = dataclasses.replace(straight, steps=2, out=str(tmp_path / "b"))
    StyleTrainer(halfway).run(progress="quiet")
    resumed = StyleTrainer(dataclasses.replace(straight, out=str(tmp_path / "b")))
    resumed.run(progress="quiet")
    for name, value in _weights(trainer).items():
        assert torch.allclose(value, resumed.nets.G.state_dict()[name], atol=1e-6), name

    entry = find_style(str(weights_path))
    assert entry.card["training"]["steps"] == straight.steps
    assert entry.card["training"]["style_images"] == 3  # the broken file was skipped, not counted
    model = load_generator(entry)
    with torch.no_grad():
        assert model(torch.rand(1, 3, 20, 24)).shape == (1, 3, 20, 24)


def test_checkpoint_is_safe_to_load(folders, tmp_path):
    content, style = folders
    trainer = StyleTrainer(StyleTrainingConfig.smoke((content,), (style,), str(tmp_path), steps=2))
    trainer.run(progress="quiet")
    torch.load(tmp_path / "checkpoint.pt", weights_only=True)  # no pickled objects inside


@pytest.mark.parametrize("gan_loss", ["hinge", "wgan-gp"])
def test_other_adversarial_objectives_train(folders, tmp_path, gan_loss):
    content, style = folders
    trainer = _ready(StyleTrainingConfig.smoke((content,), (style,), str(tmp_path), steps=1, gan_loss=gan_loss))
    values = trainer.step(0)
    assert all(np.isfinite(v) for v in values.values())


def test_cli_lists_every_objective():
    import typing

    assert set(GAN_LOSSES) == set(typing.get_args(GanLoss)) == set(losses.GAN_LOSSES.names())


def test_cli_smoke_and_install(folders, tmp_path):
    content, style = folders
    env = {"VIDGAN_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-m", "vidgan", "train", "style", "--content", content, "--style", style,
                          "--name", "tiny", "--smoke", "--install", "--out", str(tmp_path / "run"), "-q"],
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    listing = subprocess.run([sys.executable, "-m", "vidgan", "styles"], capture_output=True, text=True, env=env)
    assert "tiny" in listing.stdout and "user" in listing.stdout
    again = subprocess.run([sys.executable, "-m", "vidgan", "train", "style", "--content", content, "--style", style,
                            "--name", "tiny", "--smoke", "--out", str(tmp_path / "run"), "-q"],
                           capture_output=True, text=True, timeout=300, env=env)
    assert again.returncode == 1 and "pass --resume" in again.stderr


def test_empty_style_folder_is_a_clear_error(tmp_path, folders):
    content, _ = folders
    empty = tmp_path / "empty"
    empty.mkdir()
    run = subprocess.run([sys.executable, "-m", "vidgan", "train", "style", "--content", content, "--style",
                          str(empty), "--name", "x", "--smoke", "--out", str(tmp_path / "r")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert run.stderr.strip().startswith("vidgan: error:") and str(empty) in run.stderr


def test_without_cycle_the_backward_networks_are_left_alone(folders, tmp_path):
    content, style = folders
    trainer = _ready(StyleTrainingConfig.smoke((content,), (style,), str(tmp_path), steps=2,
                                               lambda_cycle=0.0, lambda_content=5.0))
    before_f = {k: v.clone() for k, v in trainer.nets.F.state_dict().items()}
    before_dx = {k: v.clone() for k, v in trainer.nets.D_X.state_dict().items()}
    before_g = _weights(trainer)
    values = trainer.step(0)
    assert values["cycle"] == 0.0 and values["content"] > 0.0
    assert all(torch.equal(v, trainer.nets.F.state_dict()[k]) for k, v in before_f.items())
    assert all(torch.equal(v, trainer.nets.D_X.state_dict()[k]) for k, v in before_dx.items())
    assert any(not torch.equal(v, trainer.nets.G.state_dict()[k]) for k, v in before_g.items())


def test_without_cycle_a_checkpoint_leaves_out_the_backward_networks_and_still_resumes_them(folders, tmp_path):
    content, style = folders
    config = StyleTrainingConfig.smoke((content,), (style,), str(tmp_path), steps=2, lambda_cycle=0.0,
                                       lambda_content=5.0)
    trainer = _ready(config)
    trainer.step(0)
    state = trainer.state_dict()
    assert set(state["nets"]) == {"G", "D_Y"}
    resumed = _ready(config)
    resumed.load_state_dict(state)
    for name in ("G", "F", "D_Y", "D_X"):
        mine, theirs = getattr(trainer.nets, name).state_dict(), getattr(resumed.nets, name).state_dict()
        assert all(torch.equal(v, theirs[k]) for k, v in mine.items()), name
    cycled = _ready(StyleTrainingConfig.smoke((content,), (style,), str(tmp_path / "c"), steps=2))
    assert set(cycled.state_dict()["nets"]) == {"G", "F", "D_Y", "D_X"}


def test_distilled_style_card_names_the_teacher_and_the_recipe(folders, tmp_path):
    from vidgan.train.teacher import TeacherConfig, teach_folder

    content, style = folders
    pairs = tmp_path / "pairs"
    teach_folder([content], [style], pairs, TeacherConfig(steps=2, crop=32, image_side=48, piece=40, bank_crops=32),
                 progress="quiet")
    config = StyleTrainingConfig.smoke((content,), (style,), str(tmp_path / "run"), steps=2, crop=32,
                                       pairs=str(pairs), lambda_cycle=0.0)
    weights = StyleTrainer(config).run(progress="quiet")
    card = find_style(str(weights)).card["training"]
    assert card["teacher_pairs"] == 6 and card["teacher"]["teacher"]["steps"] == 2
    assert card["recipe"].startswith("distilled recurrent GAN") and "teacher" in card["recipe"]
    assert "cycle" not in card["recipe"]
    # the pairs are learnt like a teacher's output: low-passed L1 and the conditional critic
    assert "L1 to the optimisation teacher's paintings, 4x area-downsampled x10" in card["recipe"]
    assert "conditional lsgan PatchGAN" in card["recipe"]
    history = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["d_cond"]) and r["paired"] > 0 for r in history if "g_total" in r)
    assert "critic" in torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["recipe"]


def test_no_adversarial_weight_trains_no_critic(folders, tmp_path):
    content, style = folders
    trainer = _ready(StyleTrainingConfig.smoke((content,), (style,), str(tmp_path), steps=2, lambda_adv=0.0,
                                               style_term="both"))
    before = {k: v.clone() for k, v in trainer.nets.D_Y.state_dict().items()}
    values = trainer.step(0)
    assert values["d"] == 0.0 and values["g_adv"] == 0.0 and values["style"] > 0.0
    assert all(torch.equal(v, trainer.nets.D_Y.state_dict()[k]) for k, v in before.items())


def _vgg_config(content, style, out, loss_net, **overrides):
    settings = dict(steps=2, style_term="vgg", lambda_content_vgg=1.0, lambda_cycle=0.0, style_bank=4,
                    loss_net=str(loss_net))
    return StyleTrainingConfig.smoke((content,), (style,), str(out), **{**settings, **overrides})


def test_vgg_style_recipe_trains_and_its_card_names_the_loss_net(folders, tmp_path):
    import hashlib

    from tests.models.test_lossnet import random_vgg_file

    content, style = folders
    vgg = random_vgg_file(tmp_path / "vgg19_test.safetensors")
    weights = StyleTrainer(_vgg_config(content, style, tmp_path / "run", vgg)).run(progress="quiet")
    history = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in history if "g_total" in r]
    assert len(steps) == 2 and all(r["style"] > 0 and np.isfinite(r["content_vgg"]) for r in steps)
    card = find_style(str(weights)).card["training"]
    assert card["loss_net"]["file"] == "vgg19_test.safetensors"
    assert card["loss_net"]["sha256"] == hashlib.sha256(vgg.read_bytes()).hexdigest()
    assert "training time only" in card["loss_net"]["use"]
    assert "VGG Gram style" in card["recipe"] and "VGG relu2_2 content" in card["recipe"]


def test_loss_net_from_the_environment(folders, tmp_path, monkeypatch):
    from tests.models.test_lossnet import random_vgg_file
    from vidgan.models.lossnet import LOSS_NET_ENV

    content, style = folders
    monkeypatch.setenv(LOSS_NET_ENV, str(random_vgg_file(tmp_path / "env.safetensors")))
    trainer = _ready(_vgg_config(content, style, tmp_path / "run", "", steps=1))
    assert trainer.loss_net_record is not None and trainer.loss_net_record["file"] == "env.safetensors"


@pytest.mark.parametrize("broken", ["missing", "wrong"])
def test_missing_or_wrong_loss_net_is_one_line_before_any_step(folders, tmp_path, broken):
    from safetensors.torch import save_file

    content, style = folders
    path = tmp_path / "vgg.safetensors"
    if broken == "wrong":
        save_file({"0.weight": torch.zeros(3, 3, 1, 1)}, str(path))
    run = subprocess.run([sys.executable, "-m", "vidgan", "train", "style", "--content", content, "--style", style,
                          "--name", "x", "--style-term", "vgg", "--loss-net", str(path), "--steps", "2",
                          "--crop", "32", "--out", str(tmp_path / "r")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidgan: error:") and str(path) in lines[0]
    assert not (tmp_path / "r" / "metrics.jsonl").exists() and not (tmp_path / "r" / "checkpoint.pt").exists()


# -- distillation from a trained style ------------------------------------------------------------------

def _teacher_config(content, out, teacher, loss_net, **overrides):
    settings = dict(teacher=str(teacher), loss_net=str(loss_net), lambda_cycle=10.0, lambda_adv=1.0)
    settings.update(overrides)
    return StyleTrainingConfig.smoke((content,), settings.pop("style", ()), str(out), **settings)


@pytest.fixture
def teacher_files(tmp_path):
    from tests.eval.synthetic import random_loss_net
    from tests.train.test_distill import save_teacher

    return save_teacher(tmp_path / "teacher"), random_loss_net(tmp_path / "vgg.safetensors")


def test_distillation_runs_resumes_exactly_and_its_card_names_the_teacher(folders, tmp_path, teacher_files):
    import hashlib

    content, _ = folders
    teacher, vgg = teacher_files
    straight = _teacher_config(content, tmp_path / "a", teacher, vgg)
    trainer = StyleTrainer(straight)
    weights = trainer.run(progress="quiet")
    history = [json.loads(line) for line in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in history if "g_total" in r]
    assert len(steps) == straight.steps
    for record in steps:  # the CycleGAN terms are off although their weights are set; the teacher's are on
        assert record["cycle"] == 0.0 and record["g_adv"] == 0.0 and record["d"] == 0.0
        assert record["teacher_l1"] > 0 and record["teacher_perceptual"] > 0 and np.isfinite(record["d_cond"])
    payload = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    assert payload["recipe"]["teacher_sha256"] == hashlib.sha256(teacher.read_bytes()).hexdigest()
    assert "critic" in payload["recipe"] and "teacher" not in payload["recipe"]["nets"]

    halfway = dataclasses.replace(straight, steps=2, out=str(tmp_path / "b"))
    StyleTrainer(halfway).run(progress="quiet")
    resumed = StyleTrainer(dataclasses.replace(straight, out=str(tmp_path / "b")))
    resumed.run(progress="quiet")
    for name, value in _weights(trainer).items():
        assert torch.equal(value, resumed.nets.G.state_dict()[name]), name
    for name, value in trainer.critic.net.state_dict().items():
        assert torch.equal(value, resumed.critic.net.state_dict()[name]), name

    card = find_style(str(weights)).card
    assert card["preset"] == "lite"
    training = card["training"]
    assert training["teacher"] == {"name": "tiny_teacher", "preset": "full", "file": teacher.name,
                                   "sha256": hashlib.sha256(teacher.read_bytes()).hexdigest(), "recurrent": True}
    assert training["recipe"].startswith("recurrent GAN distilled from the full style 'tiny_teacher'")
    for term in ("L1 to the teacher's output, 4x area-downsampled x4", "VGG relu2_2+relu3_1 to the teacher's output x6",
                 "conditional lsgan PatchGAN over (photo, output), the teacher's painting as real x0.5", "temporal"):
        assert term in training["recipe"]
    assert "cycle" not in training["recipe"] and "style" not in training["recipe"].split("distilled")[1].replace(
        "style 'tiny_teacher'", "")
    assert training["style_images"] == 0 and training["style_folders"] == []
    samples = sorted((tmp_path / "a" / "samples").glob("*.png"))
    assert samples and cv2.imread(str(samples[-1])).shape[0] == 3 * 32  # photos, student, teacher


def test_resuming_with_another_teacher_or_none_is_refused(folders, tmp_path, teacher_files):
    from tests.train.test_distill import save_teacher

    content, style = folders
    teacher, vgg = teacher_files
    StyleTrainer(_teacher_config(content, tmp_path / "run", teacher, vgg, steps=2)).run(progress="quiet")
    other = save_teacher(tmp_path / "other", seed=1)
    with pytest.raises(TrainingDataError, match="resume with the same teacher"):
        StyleTrainer(_teacher_config(content, tmp_path / "run", other, vgg, steps=4)).run(progress="quiet")
    plain = StyleTrainingConfig.smoke((content,), (style,), str(tmp_path / "run"), steps=4)
    with pytest.raises(TrainingDataError, match="same --teacher"):
        StyleTrainer(plain).run(progress="quiet")


@pytest.mark.parametrize("perceptual", [6.0, 0.0])
def test_the_student_approaches_the_teacher_on_a_fixed_batch(folders, tmp_path, teacher_files, perceptual):
    content, _ = folders
    teacher, vgg = teacher_files
    trainer = _ready(_teacher_config(content, tmp_path / "run", teacher, vgg, steps=8, lr=2e-3, batch=2,
                                     lambda_teacher_perceptual=perceptual))
    fixed = trainer._batch()
    trainer._batch = lambda: fixed
    history = [trainer.step(step) for step in range(8)]
    distance = [r["teacher_l1"] * 4 + r["teacher_perceptual"] * perceptual for r in history]
    assert distance[-1] < distance[0] and sum(distance[-3:]) < sum(distance[:3]), distance
    if perceptual:
        assert distance[-1] < 0.9 * distance[0], distance


def test_distillation_keeps_a_style_term_when_paintings_are_given(folders, tmp_path, teacher_files):
    content, style = folders
    teacher, vgg = teacher_files
    trainer = _ready(_teacher_config(content, tmp_path / "run", teacher, vgg, style=(style,), steps=1,
                                     lambda_teacher_perceptual=0.0, lambda_teacher_adv=0.0))
    assert trainer.critic is None and trainer.loss_net is None
    values = trainer.step(0)
    assert values["style"] > 0 and values["teacher_l1"] > 0 and values["teacher_perceptual"] == 0.0
    assert "patch swd style" in trainer.objective() and "conditional" not in trainer.objective()


def test_a_single_painting_file_is_a_style(folders, tmp_path):
    content, style = folders
    trainer = _ready(StyleTrainingConfig.smoke((content,), (str(Path(style) / "s1.png"),), str(tmp_path), steps=1))
    assert len(trainer.style) == 1
    assert all(np.isfinite(v) for v in trainer.step(0).values())


def test_style_or_teacher_is_required_and_not_teacher_with_pairs(folders, tmp_path):
    content, style = folders
    with pytest.raises(ValueError, match="--style .* is required unless a --teacher"):
        StyleTrainingConfig.smoke((content,), (), str(tmp_path))
    with pytest.raises(ValueError, match="give one"):
        StyleTrainingConfig.smoke((content,), (style,), str(tmp_path), teacher="x", pairs="y")


def _cli(*args, env=None, timeout=300):
    import os

    return subprocess.run([sys.executable, "-m", "vidgan", "train", "style", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def _one_line_error(run, *needles):
    assert run.returncode == 1, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidgan: error:"), run.stderr
    for needle in needles:
        assert str(needle) in lines[0], lines[0]


def _model_files(*folders):
    return [p for folder in folders if Path(folder).exists() for p in Path(folder).rglob("*")
            if p.suffix in (".safetensors", ".json", ".partial", ".pt")]


@pytest.mark.parametrize("broken", ["missing", "pickled", "corrupt"])
def test_a_bad_teacher_is_one_line_before_any_training(folders, tmp_path, teacher_files, broken):
    content, _ = folders
    teacher, vgg = teacher_files
    if broken == "missing":
        teacher = tmp_path / "none.safetensors"
    elif broken == "pickled":
        teacher = tmp_path / "teacher.pth"
        torch.save({"weights": torch.zeros(1)}, teacher)
    else:
        teacher.write_bytes(b"\x00" * 64)
    run = _cli("--content", content, "--teacher", teacher, "--loss-net", vgg, "--name", "x", "--smoke",
               "--out", tmp_path / "r", "--install", env={"VIDGAN_DATA_DIR": tmp_path / "data"})
    _one_line_error(run, teacher)
    assert not (tmp_path / "r").exists() and not (tmp_path / "data").exists()


@pytest.mark.parametrize("kind", ["style", "content"])
def test_folders_without_a_readable_image_are_one_line_and_write_nothing(folders, tmp_path, kind):
    content, style = folders
    broken = tmp_path / f"broken_{kind}"
    broken.mkdir()
    (broken / "a.jpg").write_bytes(b"not an image")
    (broken / "b.png").write_bytes(b"")
    given = {"content": content, "style": style, kind: broken}
    run = _cli("--content", given["content"], "--style", given["style"], "--name", "x", "--smoke",
               "--out", tmp_path / "r", "--install", env={"VIDGAN_DATA_DIR": tmp_path / "data"})
    _one_line_error(run, broken, "no readable " + ("paintings" if kind == "style" else "photos"))
    assert not _model_files(tmp_path / "r", tmp_path / "data") and not (tmp_path / "data").exists()


def test_cli_distils_and_installs(folders, tmp_path, teacher_files):
    content, _ = folders
    teacher, vgg = teacher_files
    run = _cli("--content", content, "--teacher", teacher, "--loss-net", vgg, "--name", "student", "--smoke",
               "--out", tmp_path / "r", "--install", "-q", env={"VIDGAN_DATA_DIR": tmp_path / "data"})
    assert run.returncode == 0, run.stderr
    installed = tmp_path / "data" / "styles" / "student_lite.json"
    card = json.loads(installed.read_text())
    assert card["training"]["teacher"]["name"] == "tiny_teacher"
    assert not list((tmp_path / "data").rglob("*.partial"))
    without = _cli("--content", content, "--name", "x", "--out", tmp_path / "r2")
    _one_line_error(without, "--teacher")


def test_init_starts_the_generator_from_a_trained_style_and_the_card_names_it(folders, tmp_path):
    content, style = folders
    first = StyleTrainer(StyleTrainingConfig.smoke((content,), (style,), str(tmp_path / "a"), steps=2))
    weights = first.run(progress="quiet")
    started = _ready(StyleTrainingConfig.smoke((content,), (style,), str(tmp_path / "b"), init=str(weights)))
    for name, value in started.nets.G.state_dict().items():
        assert torch.equal(value, first.nets.G.state_dict()[name].cpu()), name
    card = find_style(str(started.run(progress="quiet"))).card
    assert card["training"]["init"]["sha256"] == distill.file_sha256(weights)


def test_a_resumed_run_names_the_init_it_started_from_even_if_that_style_was_replaced(folders, tmp_path):
    content, style = folders
    weights = StyleTrainer(StyleTrainingConfig.smoke((content,), (style,), str(tmp_path / "a"), steps=2)).run(
        progress="quiet")
    original = distill.file_sha256(weights)
    StyleTrainer(StyleTrainingConfig.smoke((content,), (style,), str(tmp_path / "b"), init=str(weights),
                                           steps=2)).run(progress="quiet")
    other = StyleTrainer(StyleTrainingConfig.smoke((content,), (style,), str(tmp_path / "c"), steps=3, seed=1)).run(
        progress="quiet")
    for suffix in (".safetensors", ".json"):
        weights.with_suffix(suffix).write_bytes(other.with_suffix(suffix).read_bytes())
    assert distill.file_sha256(weights) != original
    resumed = StyleTrainer(StyleTrainingConfig.smoke((content,), (style,), str(tmp_path / "b"), init=str(weights),
                                                     steps=3))
    card = find_style(str(resumed.run(progress="quiet"))).card
    assert card["training"]["init"]["sha256"] == original


def test_init_from_another_preset_is_one_line(folders, tmp_path):
    content, style = folders
    weights = StyleTrainer(StyleTrainingConfig.smoke((content,), (style,), str(tmp_path / "a"), steps=1)).run(
        progress="quiet")
    with pytest.raises(TrainingDataError, match="not the shape of the full preset") as error:
        _ready(StyleTrainingConfig.smoke((content,), (style,), str(tmp_path / "b"), init=str(weights), preset="full"))
    assert "\n" not in str(error.value)
