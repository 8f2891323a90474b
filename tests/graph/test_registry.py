"""The filter registry: typed options from ``-vf`` text, and registration rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

from vidgan.errors import FilterOptionError, UnknownFilterError
from vidgan.frame import Frame
from vidgan.graph.registry import build_options, create_stage, filter_names, get_filter, register_filter
from vidgan.graph.spec import parse_args
from vidgan.graph.stage import Stage, StageContext


@dataclass(frozen=True)
class Knobs:
    strength: float = 1.0
    steps: int = 4
    enabled: bool = True
    mode: Literal["fast", "best"] = "fast"
    factor: Literal[2, 4] = 2
    seed: int | None = None
    limit: float | None = None  # noqa: UP007 - the old spelling must work too
    label: str = "none"

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 2.0:
            raise ValueError(f"strength must be within [0, 2], got {self.strength}")


@register_filter("tests_registry_knobs")
class KnobStage(Stage):
    Options = Knobs

    def __init__(self, options: Knobs, context: StageContext) -> None:
        self.options, self.context = options, context

    def process(self, frame: Frame) -> list[Frame]:
        return [frame]


def knobs(text: str) -> Knobs:
    return build_options("knobs", Knobs, parse_args(text))


def test_defaults_when_no_options() -> None:
    assert knobs("") == Knobs()


def test_values_are_converted_to_the_field_types() -> None:
    got = knobs("strength=0.5:steps=8:enabled=false:mode=best:factor=4:seed=3:limit=1.5:label=a b")
    assert got == Knobs(strength=0.5, steps=8, enabled=False, mode="best", factor=4, seed=3, limit=1.5, label="a b")
    assert type(got.steps) is int and type(got.strength) is float and type(got.factor) is int


def test_positional_values_fill_fields_in_order() -> None:
    assert knobs("0.25:2:mode=best") == Knobs(strength=0.25, steps=2, mode="best")


@pytest.mark.parametrize("raw, value", [("1", True), ("true", True), ("Yes", True), ("on", True),
                                        ("0", False), ("false", False), ("NO", False), ("off", False)])
def test_booleans(raw: str, value: bool) -> None:
    assert knobs(f"enabled={raw}").enabled is value


@pytest.mark.parametrize("raw", ["none", "None", ""])
def test_optional_takes_none(raw: str) -> None:
    assert knobs(f"seed={raw}").seed is None
    assert knobs(f"limit={raw}").limit is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("steps=many", r"knobs: steps='many' is not a valid int"),
        ("strength=strong", r"knobs: strength='strong' is not a valid float"),
        ("enabled=maybe", r"knobs: enabled='maybe' is not a valid bool"),
        ("seed=3.5", r"knobs: seed='3.5' is not a valid int"),
        ("mode=slow", r"knobs: mode must be one of fast, best; got 'slow'"),
        ("factor=3", r"knobs: factor must be one of 2, 4; got '3'"),
        ("strength=5", r"knobs: strength must be within \[0, 2\], got 5.0"),
    ],
)
def test_bad_values_are_refused_with_the_option_named(text: str, message: str) -> None:
    with pytest.raises(FilterOptionError, match=message):
        knobs(text)


def test_unknown_option_suggests_the_closest_and_lists_all() -> None:
    with pytest.raises(FilterOptionError) as info:
        knobs("strenght=0.5")
    message = str(info.value)
    assert "unknown option 'strenght'; did you mean 'strength'?" in message
    assert "valid options: strength, steps, enabled, mode, factor, seed, limit, label" in message


@pytest.mark.parametrize("text", ["steps=1:steps=2", "0.5:strength=0.7"])
def test_an_option_given_twice_is_refused(text: str) -> None:
    with pytest.raises(FilterOptionError, match="given twice"):
        knobs(text)


def test_too_many_positional_values() -> None:
    with pytest.raises(FilterOptionError, match="too many positional values"):
        knobs("1:2:true:fast:2:1:1:x:extra")


def test_unsupported_field_type_is_a_programming_error() -> None:
    @dataclass
    class Broken:
        sizes: list = None  # type: ignore[assignment]

    with pytest.raises(TypeError, match="not supported"):
        build_options("broken", Broken, [("sizes", "1")])


def test_registered_filter_is_created_from_text() -> None:
    assert "tests_registry_knobs" in filter_names() and "null" in filter_names()
    assert get_filter("tests_registry_knobs") is KnobStage
    stage = create_stage("tests_registry_knobs", parse_args("steps=2"), StageContext(device="cpu"))
    assert isinstance(stage, KnobStage) and stage.options.steps == 2
    assert KnobStage.filter_name == "tests_registry_knobs"


def test_a_name_registers_once() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_filter("tests_registry_knobs")(type("Again", (Stage,), {"Options": Knobs}))
    assert get_filter("tests_registry_knobs") is KnobStage


def test_a_stage_needs_an_options_dataclass() -> None:
    with pytest.raises(TypeError, match="needs a dataclass named Options"):
        register_filter("tests_registry_no_options")(type("NoOptions", (Stage,), {}))
    assert get_filter("tests_registry_no_options") is None


def test_unknown_filter() -> None:
    assert get_filter("no_such_filter") is None
    with pytest.raises(UnknownFilterError, match="available: .*null"):
        create_stage("no_such_filter", [], StageContext())


def test_a_stateless_filter_needs_no_constructor_of_its_own() -> None:
    """The base Stage takes the (options, context) every registered filter is built with."""

    @dataclass(frozen=True)
    class NoKnobs:
        pass

    cls = register_filter("tests_registry_stateless")(type("Stateless", (Stage,), {"Options": NoKnobs}))
    stage = create_stage("tests_registry_stateless", [], StageContext())
    assert type(stage) is cls and stage.describe() == "Stateless"
    assert isinstance(Stage(), Stage)
