"""Options dataclasses are the one declaration of a knob: its type, default, range and help.

A filter's ``Options`` (and every training config) declares each knob once with :func:`option`;
everything that shows or takes knobs is derived from that declaration:

- ``-vf`` text (``stylize=style=van_gogh:strength=0.8``) -> :func:`build_options`
- command-line flags (``vidgan stylize --strength 0.8``, ``vidgan train style --steps 100``) ->
  :func:`add_option_flags` and :func:`options_from_flags`
- the machine-readable schema the serve protocol sends to clients such as the OBS filter ->
  :func:`option_schema`; what those clients send back -> :func:`build_options`
- ``-vf`` text back from a built dataclass (``vidgan live``, ``vidgan serve``) -> :func:`options_as_filter_args`

Types are ``bool``, ``int``, ``float``, ``str``, ``Literal[...]`` (a choice), ``X | None`` and
``tuple[str, ...]`` (repeatable flags, comma-separated in ``-vf`` text).
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from vidgan.errors import FilterOptionError, did_you_mean


def option(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    min: float | None = None,
    max: float | None = None,
    flag: str | None = None,
    metavar: str | tuple[str, ...] | None = None,
    live: bool = False,
    nargs: str | int | None = None,
    cli: bool = True,
    default_factory: Any = dataclasses.MISSING,
) -> Any:
    """A dataclass field that carries what every front end needs to show and check it.

    ``min``/``max`` bound a number (checked by :func:`check_options`); ``flag`` overrides the
    command-line flag (default ``--field-name``); ``live`` marks the knobs live front ends (OBS,
    ``vidgan live``) expose to their users. ``nargs`` makes a tuple flag take its values after one
    flag (``--content A B``) instead of repeating it; ``cli=False`` keeps a field off the generated flags
    (a command that fills it some other way).
    """
    metadata = {"help": help, "min": min, "max": max, "flag": flag, "metavar": metavar, "live": live,
                "nargs": nargs, "cli": cli}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def option_fields(options_cls: type) -> list[dataclasses.Field]:
    """The fields a user can set (``init`` fields), in declaration order."""
    return [f for f in dataclasses.fields(options_cls) if f.init]


def live_option_names(options_cls: type) -> list[str]:
    """The fields marked ``live=True``: the knobs live front ends (OBS, ``vidgan live``) show."""
    return [f.name for f in option_fields(options_cls) if f.metadata.get("live")]


def _hints(options_cls: type) -> dict[str, Any]:
    return typing.get_type_hints(options_cls)


def _strip_optional(kind: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(kind) if a is not type(None)]
        return members[0], len(members) < len(typing.get_args(kind))
    return kind, False


def choices_of(kind: Any) -> tuple[Any, ...] | None:
    """The allowed values of a ``Literal`` (possibly optional) type, else None."""
    kind, _ = _strip_optional(kind)
    return typing.get_args(kind) if typing.get_origin(kind) is Literal else None


def parse_value(owner: str, key: str, raw: str, kind: Any) -> Any:
    """Convert option text ``raw`` to the field type ``kind``; a bad value names the option."""
    inner, optional = _strip_optional(kind)
    if inner is not kind:
        if optional and raw.lower() in ("none", ""):
            return None
        return parse_value(owner, key, raw, inner)
    origin = typing.get_origin(kind)
    if origin is Literal:
        choices = {str(c): c for c in typing.get_args(kind)}
        if raw not in choices:  # the same words as check_options, whichever way the value came in
            raise FilterOptionError(f"{owner}: {key} must be one of {', '.join(choices)}; got {raw!r}")
        return choices[raw]  # the declared value: Literal[2, 4] gives the int 2, not "2"
    if origin is tuple:
        item = typing.get_args(kind)[0]
        return tuple(parse_value(owner, key, part, item) for part in raw.split(",") if part)
    try:
        if kind is bool:
            lowered = raw.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind in (int, float, str):
            return kind(raw)
    except ValueError:
        raise FilterOptionError(f"{owner}: {key}={raw!r} is not a valid {kind.__name__}") from None
    raise TypeError(f"option type {kind!r} of {owner}.{key} is not supported")


def parse_values(owner: str, options_cls: type, texts: Mapping[str, str], *, only: Iterable[str]) -> dict[str, Any]:
    """Typed values of the fields in ``only`` that ``texts`` holds (a message that carries other keys too)."""
    hints = _hints(options_cls)
    return {name: parse_value(owner, name, texts[name], hints[name]) for name in only if name in texts}


def format_value(value: Any) -> str:
    """The text :func:`parse_value` reads back as ``value`` (``1``/``0`` for booleans, commas for lists)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ",".join(format_value(v) for v in value)
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return "" if value is None else str(value)


def check_options(options: Any) -> None:
    """Raise ValueError for a value outside its field's declared ``min``/``max`` or ``Literal`` choices.

    Call it from ``__post_init__`` so that every way of building the options is checked.
    """
    hints = _hints(type(options))
    for f in option_fields(type(options)):
        value = getattr(options, f.name)
        if value is None:
            continue
        choices = choices_of(hints[f.name])
        if choices is not None and value not in choices:
            raise ValueError(f"{f.name} must be one of {', '.join(map(str, choices))}; got {value!r}")
        low, high = f.metadata.get("min"), f.metadata.get("max")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if low is not None and high is not None and not low <= value <= high:
            raise ValueError(f"{f.name} must be in [{low:g}, {high:g}]; got {value}")
        if low is not None and value < low:
            raise ValueError(f"{f.name} must be >= {low:g}; got {value}")
        if high is not None and value > high:
            raise ValueError(f"{f.name} must be <= {high:g}; got {value}")


def create_options(owner: str, options_cls: type, values: Mapping[str, Any]) -> Any:
    """``options_cls(**values)``; a value the dataclass refuses is a :class:`FilterOptionError` naming ``owner``."""
    try:
        return options_cls(**values)
    except (TypeError, ValueError) as exc:
        raise FilterOptionError(f"{owner}: {exc}") from None


def build_options(
    owner: str, options_cls: type, args: Iterable[tuple[str | None, str]], *, base: Mapping[str, Any] | None = None
) -> Any:
    """Make ``options_cls`` from (key or None, text) pairs; positional values fill fields in order.

    ``base`` holds values that apply where the text says nothing (a front end's own setting,
    such as the live stylizer's fast flow), instead of the dataclass defaults.
    """
    args = list(args)
    fields = option_fields(options_cls)
    names = [f.name for f in fields]
    hints = _hints(options_cls)
    values: dict[str, Any] = {}
    for position, (key, raw) in enumerate(args):
        if key is None:
            if position >= len(fields):
                raise FilterOptionError(
                    f"{owner}: too many positional values ({len(args)}); options are: {', '.join(names) or 'none'}"
                )
            key = names[position]
        if key not in names:
            valid = ", ".join(names) or "none"
            raise FilterOptionError(f"{owner}: unknown option {key!r}{did_you_mean(key, names)}; valid options: {valid}")
        if key in values:
            raise FilterOptionError(f"{owner}: option {key!r} given twice")
        values[key] = parse_value(owner, key, raw, hints[key])
    return create_options(owner, options_cls, {**(base or {}), **values})


def _default_of(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _type_name(kind: Any) -> str:
    inner, _ = _strip_optional(kind)
    if typing.get_origin(inner) is Literal:
        return "choice"
    if typing.get_origin(inner) is tuple:
        return "list"
    return getattr(inner, "__name__", str(inner))


def option_schema(options_cls: type, *, live_only: bool = False) -> list[dict[str, Any]]:
    """One JSON-ready entry per field: name, type, default, help, min/max, choices.

    This is what the serve protocol sends in its welcome message; clients (the OBS filter) build
    their controls from it.
    """
    hints = _hints(options_cls)
    schema = []
    for f in option_fields(options_cls):
        if live_only and not f.metadata.get("live"):
            continue
        default = _default_of(f)
        entry: dict[str, Any] = {
            "name": f.name,
            "type": _type_name(hints[f.name]),
            "default": None if default is dataclasses.MISSING else (list(default) if isinstance(default, tuple) else default),
            "help": f.metadata.get("help", ""),
        }
        for bound in ("min", "max"):
            if f.metadata.get(bound) is not None:
                entry[bound] = f.metadata[bound]
        choices = choices_of(hints[f.name])
        if choices is not None:
            entry["choices"] = list(choices)
        schema.append(entry)
    return schema


def flag_name(f: dataclasses.Field, prefix: str = "") -> str:
    return f.metadata.get("flag") or f"--{prefix}{f.name.replace('_', '-')}"


def add_option_flags(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    options_cls: type,
    *,
    dest_prefix: str = "",
    taken: Iterable[str] = (),
    flag_prefix: str = "",
    only: Iterable[str] | None = None,
    required_defaults: bool = False,
    defaults: dict[str, Any] | None = None,
) -> list[str]:
    """Add one flag per field of ``options_cls``; returns the field names added.

    Every flag defaults to None ("not given"), so :func:`options_from_flags` leaves the dataclass
    default in place and only what the user typed is passed on. A flag already ``taken`` by the
    parser is prefixed with ``flag_prefix`` (stylize's ``preset`` next to the encoder's ``-preset``).
    ``defaults`` replaces a field's default for this command (shown in the help and passed on).
    """
    defaults = dict(defaults or {})
    hints = _hints(options_cls)
    taken = set(taken)
    wanted = set(only) if only is not None else None
    added = []
    for f in option_fields(options_cls):
        if (wanted is not None and f.name not in wanted) or not f.metadata.get("cli", True):
            continue
        flag = flag_name(f)
        if flag in taken:
            flag = flag_name(f, flag_prefix) if not f.metadata.get("flag") else f"--{flag_prefix}{flag[2:]}"
        kind = hints[f.name]
        inner, _ = _strip_optional(kind)
        default = defaults[f.name] if f.name in defaults else _default_of(f)
        shown = "" if default is dataclasses.MISSING else f" (default {default})"
        help_text = f"{f.metadata.get('help', f.name)}{shown}".replace("%", "%%")
        choices = choices_of(kind)
        kwargs: dict[str, Any] = {"dest": dest_prefix + f.name, "default": defaults.get(f.name), "help": help_text}
        if inner is bool:  # --flag, --flag 1, --flag off
            kwargs.update(nargs="?", const=True, metavar="BOOL",
                          type=lambda raw, _name=f.name: parse_value("flag", _name, raw, bool))
        elif typing.get_origin(inner) is tuple:
            how = {"nargs": f.metadata["nargs"]} if f.metadata.get("nargs") is not None else {"action": "append"}
            kwargs.update(how, metavar=f.metadata.get("metavar") or f.name.upper(), type=typing.get_args(inner)[0])
        else:
            if choices is not None:
                kwargs["choices"] = list(choices)
                kwargs["type"] = type(choices[0])
            elif inner in (int, float, str):
                kwargs["type"] = inner
            kwargs["metavar"] = f.metadata.get("metavar") or (None if choices else f.name.upper())
        if default is dataclasses.MISSING and required_defaults:
            kwargs["required"] = True
        parser.add_argument(flag, **kwargs)
        added.append(f.name)
    return added


def values_from_flags(options_cls: type, args: argparse.Namespace, *, dest_prefix: str = "") -> dict[str, Any]:
    """The values of the flags :func:`add_option_flags` added that the user set, by field name."""
    values: dict[str, Any] = {}
    hints = _hints(options_cls)
    for f in option_fields(options_cls):
        value = getattr(args, dest_prefix + f.name, None)
        if value is None:
            continue
        inner, _ = _strip_optional(hints[f.name])
        if typing.get_origin(inner) is tuple:
            value = tuple(value)
        values[f.name] = value
    return values


def options_from_flags(options_cls: type, args: argparse.Namespace, *, dest_prefix: str = "", **overrides: Any) -> Any:
    """Build ``options_cls`` from the flags :func:`add_option_flags` added (unset flags keep their default)."""
    return options_cls(**{**values_from_flags(options_cls, args, dest_prefix=dest_prefix), **overrides})


def flags_as_filter_args(options_cls: type, args: argparse.Namespace, *, dest_prefix: str = "") -> list[str]:
    """The ``key=value`` texts of the flags a user set, for a ``-vf`` call (``vidgan stylize``)."""
    parts = []
    for f in option_fields(options_cls):
        value = getattr(args, dest_prefix + f.name, None)
        if value is None:
            continue
        parts.append(f"{f.name}={format_value(value)}")
    return parts


def options_as_filter_args(options: Any, *, always: Iterable[str] = ()) -> str:
    """``-vf`` argument text that builds ``options`` again: the fields that differ from their default,
    and those named in ``always`` whatever their value, with separators escaped."""
    from vidgan.graph.spec import escape_arg

    always = set(always)
    parts = []
    for f in option_fields(type(options)):
        value = getattr(options, f.name)
        if f.name in always or value != _default_of(f):
            parts.append(f"{f.name}={escape_arg(format_value(value))}")
    return ":".join(parts)


__all__ = [
    "add_option_flags",
    "build_options",
    "check_options",
    "choices_of",
    "create_options",
    "flag_name",
    "flags_as_filter_args",
    "format_value",
    "live_option_names",
    "option",
    "option_fields",
    "option_schema",
    "options_as_filter_args",
    "options_from_flags",
    "parse_value",
    "parse_values",
    "values_from_flags",
]
