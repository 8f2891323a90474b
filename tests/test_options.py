"""vidgan.options: values back to ``-vf`` text, values picked out of a message, base values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

from vidgan.errors import FilterOptionError
from vidgan.graph.spec import parse_args
from vidgan.options import (
    build_options,
    check_options,
    format_value,
    live_option_names,
    option,
    options_as_filter_args,
    parse_value,
    parse_values,
)


@dataclass(frozen=True)
class Knobs:
    name: str = option("plain", live=True, help="a name")
    gain: float = option(1.0, min=0.0, max=2.0, live=True, help="a gain")
    steps: int = option(4, min=1, help="steps")
    mode: Literal["fast", "best"] = option("fast", help="mode")
    tags: tuple[str, ...] = option((), help="tags")
    on: bool = option(True, help="on")

    def __post_init__(self) -> None:
        check_options(self)


@pytest.mark.parametrize("value, kind", [(0.8, float), (1.0, float), (0.1 + 0.2, float), (1e-9, float), (7, int),
                                         (True, bool), (False, bool), (("a", "b"), tuple[str, ...]), ("x y", str)])
def test_format_value_reads_back_as_the_value(value, kind) -> None:
    assert parse_value("t", "k", format_value(value), kind) == value


def test_filter_args_hold_what_differs_and_what_is_asked_for_with_separators_escaped() -> None:
    knobs = Knobs(name="a:b,c", steps=8, tags=("x", "y"), on=False)
    text = options_as_filter_args(knobs, always=["gain"])
    assert text == "name=a\\:b\\,c:gain=1:steps=8:tags=x\\,y:on=0"
    assert build_options("t", Knobs, parse_args(text)) == knobs
    assert options_as_filter_args(Knobs()) == ""


def test_parse_values_reads_only_the_named_fields() -> None:
    message = {"gain": "0.5", "steps": "2", "width": "64"}
    assert parse_values("t", Knobs, message, only=live_option_names(Knobs)) == {"gain": 0.5}
    with pytest.raises(FilterOptionError, match="t: gain='loud' is not a valid float"):
        parse_values("t", Knobs, {"gain": "loud"}, only=["gain"])


def test_base_values_apply_under_the_text() -> None:
    assert build_options("t", Knobs, parse_args("gain=0.5"), base={"mode": "best", "gain": 2.0}) == Knobs(
        gain=0.5, mode="best")


@pytest.mark.parametrize("kwargs, message", [
    ({"gain": 3.0}, r"gain must be in \[0, 2\]; got 3.0"),
    ({"steps": 0}, r"steps must be >= 1; got 0"),
    ({"mode": "slow"}, r"mode must be one of fast, best; got 'slow'"),
])
def test_check_options_and_the_text_parser_say_the_same(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        Knobs(**kwargs)
    with pytest.raises(FilterOptionError, match=message):
        build_options("t", Knobs, [(key, format_value(value)) for key, value in kwargs.items()])
