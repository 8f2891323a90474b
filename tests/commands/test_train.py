"""``vidgan train``: flags come from the config dataclasses, with the spellings and defaults users know."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from vidgan.commands import train as command
from vidgan.errors import VidganError
from vidgan.options import option, option_fields
from vidgan.train.config import InterpTrainingConfig, StyleTrainingConfig, TeacherConfig

STYLE_FLAGS = ["--content", "--style", "--videos", "--name", "--preset", "--out", "--steps", "--batch", "--crop",
               "--lr", "--gan-loss", "--lambda-cycle", "--lambda-identity", "--lambda-temporal", "--lambda-style",
               "--lambda-content", "--lambda-adv", "--pairs", "--lambda-paired", "--style-term", "--style-levels",
               "--crop-scale", "--image-side", "--disc-width", "--disc-scales", "--checkpoint-every", "--seed",
               "--device", "--no-amp", "--compile", "--resume", "--install", "--smoke", "-q", "--quiet", "--json"]
INTERP_FLAGS = ["--videos", "--frames", "--photos", "--synthetic", "--max-motion", "--preset", "--name", "--out",
                "--steps", "--batch", "--crop", "--lr", "--skips", "--image-side", "--max-frames", "--lambda-adv",
                "--lambda-flow", "--checkpoint-every", "--seed", "--device", "--no-amp", "--resume", "--smoke", "-q",
                "--json"]
TEACH_FLAGS = ["--content", "--style", "--out", "--steps", "--image-side", "--limit", "--seed", "-q"]
PACK_FLAGS = ["--out", "--image-side", "--quality"]


def _parser(kind: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"vidgan train {kind}")
    command.TRAINING_KINDS.get(kind).add_arguments(parser)
    parser.set_defaults(kind=kind)
    return parser


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


@pytest.mark.parametrize(("kind", "flags"), [("style", STYLE_FLAGS), ("interp", INTERP_FLAGS),
                                             ("teach", TEACH_FLAGS), ("pack", PACK_FLAGS)])
def test_every_existing_flag_is_still_there(kind, flags):
    assert set(flags) <= _flags(_parser(kind))


@pytest.mark.parametrize(("kind", "config"), [("style", StyleTrainingConfig), ("interp", InterpTrainingConfig),
                                              ("teach", TeacherConfig)])
def test_every_config_field_has_a_flag(kind, config):
    flags = _flags(_parser(kind))
    for f in option_fields(config):
        if f.metadata.get("cli", True):
            assert f"--{f.name.replace('_', '-')}" in flags, f.name


def test_style_flags_parse_into_the_config_with_its_defaults():
    args = _parser("style").parse_args(["--content", "a", "b", "--style", "s", "--name", "n", "--crop-scale", "0.2",
                                        "0.4", "--gan-loss", "hinge", "--steps", "9", "--compile"])
    config = command._config(StyleTrainingConfig, args)
    assert config.content == ("a", "b") and config.style == ("s",) and config.crop_scale == (0.2, 0.4)
    assert config.gan_loss == "hinge" and config.steps == 9 and config.compile is True
    assert config.batch == StyleTrainingConfig.__dataclass_fields__["batch"].default
    assert config.videos == () and config.seed == 0 and config.preset == "lite"


def test_teach_keeps_its_own_step_default_and_fits_crops_to_the_side():
    args = _parser("teach").parse_args(["--content", "a", "--style", "b", "--out", "o", "--image-side", "100"])
    assert args.steps == 120
    fitted = {key: min(getattr(TeacherConfig(), key), 100) for key in ("crop", "piece")}
    config = command._config(TeacherConfig, args, **fitted)
    assert config.steps == 120 and config.image_side == 100 and config.crop == 100 and config.piece == 100


def test_a_value_out_of_range_is_a_one_line_error():
    args = _parser("interp").parse_args(["--steps", "0"])
    with pytest.raises(VidganError, match=r"^vidgan train interp: steps must be >= 1; got 0$"):
        command._config(InterpTrainingConfig, args)


def test_adding_a_config_field_adds_a_flag(monkeypatch):
    @dataclasses.dataclass(frozen=True)
    class Extended(StyleTrainingConfig):
        warmup: int = option(0, help="warm-up steps", min=0)

    monkeypatch.setattr(command, "StyleTrainingConfig", Extended)
    parser = _parser("style")
    assert "--warmup" in _flags(parser)
    args = parser.parse_args(["--content", "a", "--style", "b", "--name", "n", "--warmup", "5"])
    assert command._config(Extended, args).warmup == 5


def test_the_cli_objectives_are_the_registered_ones():
    from vidgan.train.losses import GAN_LOSSES

    assert list(command.GAN_LOSSES) == [name for name, _ in GAN_LOSSES.items()]
    assert set(command.GAN_LOSSES) == set(_parser("style")._option_string_actions["--gan-loss"].choices)
