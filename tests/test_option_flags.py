"""Flags derived from option() fields: nargs tuples, fields kept off the command line, per-command defaults."""

from __future__ import annotations

import argparse
import dataclasses

from vidgan.options import add_option_flags, option, options_from_flags


@dataclasses.dataclass(frozen=True)
class Knobs:
    folders: tuple[str, ...] = option(help="folders", nargs="+")
    pair: tuple[float, float] = option((0.1, 0.2), help="a pair", nargs=2)
    tags: tuple[str, ...] = option((), help="repeatable")
    hidden: int = option(3, help="set by the command", cli=False)
    steps: int = option(80, help="steps")


def _parse(argv: list[str], **kwargs) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser()
    add_option_flags(parser, Knobs, required_defaults=True, **kwargs)
    return parser, parser.parse_args(argv)


def test_nargs_tuples_and_repeated_flags():
    _, args = _parse(["--folders", "a", "b", "--pair", "1", "2", "--tags", "x", "--tags", "y"])
    knobs = options_from_flags(Knobs, args)
    assert knobs.folders == ("a", "b") and knobs.pair == (1.0, 2.0) and knobs.tags == ("x", "y")


def test_cli_false_fields_get_no_flag_and_keep_their_default():
    parser, args = _parse(["--folders", "a"])
    assert "--hidden" not in parser._option_string_actions
    assert options_from_flags(Knobs, args).hidden == 3


def test_command_defaults_replace_the_field_default():
    parser, args = _parse(["--folders", "a"], defaults={"steps": 120})
    assert options_from_flags(Knobs, args).steps == 120
    assert "(default 120)" in parser._option_string_actions["--steps"].help
    _, args = _parse(["--folders", "a", "--steps", "5"], defaults={"steps": 120})
    assert options_from_flags(Knobs, args).steps == 5
