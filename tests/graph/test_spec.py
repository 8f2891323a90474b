"""Parsing ``-vf`` text into filter calls and a filter's argument text into (key, value) pairs."""

from __future__ import annotations

import pytest

from vidgan.errors import FilterOptionError
from vidgan.graph.spec import FilterCall, parse_args, parse_chain


def test_chain_splits_on_commas_and_keeps_argument_text_as_written() -> None:
    assert parse_chain("scale=-2:720, null ,hflip") == [
        FilterCall("scale", "-2:720"),
        FilterCall("null"),
        FilterCall("hflip"),
    ]


@pytest.mark.parametrize("chain", ["", "   "])
def test_empty_chain_is_null(chain: str) -> None:
    assert parse_chain(chain) == [FilterCall("null")]


def test_escaped_comma_stays_in_the_arguments() -> None:
    calls = parse_chain(r"drawtext=text=a\,b,hflip")
    assert calls == [FilterCall("drawtext", r"text=a\,b"), FilterCall("hflip")]
    assert parse_args(calls[0].args) == [("text", "a,b")]


def test_quoted_commas_and_colons_stay_in_the_arguments() -> None:
    calls = parse_chain("scale='min(80,iw)':-2,drawtext=text='a,b:c'")
    assert [c.name for c in calls] == ["scale", "drawtext"]
    assert parse_args(calls[0].args) == [(None, "min(80,iw)"), (None, "-2")]
    assert parse_args(calls[1].args) == [("text", "a,b:c")]


@pytest.mark.parametrize(
    "chain, text",
    [("drawtext=text='a;b'", "a;b"), (r"drawtext=text=a\;b", "a;b"), ("drawtext=text='[live]'", "[live]")],
)
def test_quoted_or_escaped_graph_characters_are_plain_text(chain: str, text: str) -> None:
    (call,) = parse_chain(chain)
    assert call.name == "drawtext"
    assert parse_args(call.args) == [("text", text)]


def test_positional_and_named_arguments() -> None:
    assert parse_args("80:60") == [(None, "80"), (None, "60")]
    assert parse_args("w=80:h=60") == [("w", "80"), ("h", "60")]
    assert parse_args("80:h=60:flags=lanczos") == [(None, "80"), ("h", "60"), ("flags", "lanczos")]
    assert parse_args("") == []


def test_value_may_contain_equals_signs() -> None:
    assert parse_args("expr=a=b") == [("expr", "a=b")]


def test_filter_call_prints_back_as_written() -> None:
    assert str(FilterCall("scale", "80:60")) == "scale=80:60"
    assert str(FilterCall("hflip")) == "hflip"


@pytest.mark.parametrize(
    "chain, message",
    [
        ("scale=80:60;hflip", "only linear filter chains"),
        ("[in]scale=80:60[out]", "only linear filter chains"),
        ("split[a][b]", "only linear filter chains"),
        ("scale=80:60,,hflip", "empty filter"),
        ("scale=80:60,", "empty filter"),
        ("drawtext=text='open", "unterminated quote"),
        ("sc ale=80", "bad filter name"),
        ("=80", "bad filter name"),
    ],
)
def test_malformed_chains_are_refused(chain: str, message: str) -> None:
    with pytest.raises(FilterOptionError, match=message):
        parse_chain(chain)
