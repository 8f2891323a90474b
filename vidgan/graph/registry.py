"""Registry of vidgan's own filters: name -> stage class with a typed options dataclass.

Filters register themselves next to their definition::

    @register_filter("null")
    class NullStage(Stage):
        @dataclass(frozen=True)
        class Options: ...
        def __init__(self, options: Options, context: StageContext): ...

Options arrive as ``-vf`` text (``stylize=style=van_gogh:strength=0.8``); :func:`build_options`
turns them into the dataclass, converting each value to the field's type and refusing unknown
names with the list of valid ones.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from typing import Any, Literal

from vidgan.errors import FilterOptionError, UnknownFilterError, did_you_mean
from vidgan.graph.stage import Stage, StageContext

_FILTERS: dict[str, type[Stage]] = {}
_PLUGINS_LOADED = False


def register_filter(name: str) -> Callable[[type[Stage]], type[Stage]]:
    """Class decorator adding a stage under ``name``; a name can be registered once."""

    def add(cls: type[Stage]) -> type[Stage]:
        if name in _FILTERS:
            raise ValueError(f"filter {name!r} is already registered by {_FILTERS[name].__qualname__}")
        if not dataclasses.is_dataclass(getattr(cls, "Options", None)):
            raise TypeError(f"{cls.__qualname__} needs a dataclass named Options")
        cls.filter_name = name
        _FILTERS[name] = cls
        return cls

    return add


def _load_builtin_filters() -> None:
    global _PLUGINS_LOADED
    if not _PLUGINS_LOADED:
        _PLUGINS_LOADED = True
        import vidgan.stages  # noqa: F401  (registers the built-in filters)


def filter_names() -> list[str]:
    _load_builtin_filters()
    return sorted(_FILTERS)


def get_filter(name: str) -> type[Stage] | None:
    _load_builtin_filters()
    return _FILTERS.get(name)


def create_stage(name: str, args: list[tuple[str | None, str]], context: StageContext) -> Stage:
    cls = get_filter(name)
    if cls is None:
        raise UnknownFilterError(f"unknown vidgan filter {name!r}; available: {', '.join(filter_names())}")
    return cls(build_options(name, cls.Options, args), context)


def _convert(filter_name: str, key: str, raw: str, kind: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(kind) if a is not type(None)]
        if raw.lower() in ("none", "") and len(members) < len(typing.get_args(kind)):
            return None
        return _convert(filter_name, key, raw, members[0])
    if origin is Literal:
        choices = {str(c): c for c in typing.get_args(kind)}
        if raw not in choices:
            raise FilterOptionError(f"{filter_name}: {key}={raw!r} is not one of {', '.join(choices)}")
        return choices[raw]  # the declared value: Literal[2, 4] gives the int 2, not "2"
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
        raise FilterOptionError(f"{filter_name}: {key}={raw!r} is not a valid {kind.__name__}") from None
    raise TypeError(f"option type {kind!r} of {filter_name}.{key} is not supported")


def build_options(filter_name: str, options_cls: type, args: list[tuple[str | None, str]]) -> Any:
    """Make ``options_cls`` from (key or None, value) pairs; positional values fill fields in order."""
    fields = [f for f in dataclasses.fields(options_cls) if f.init]
    names = [f.name for f in fields]
    hints = typing.get_type_hints(options_cls)
    values: dict[str, Any] = {}
    for position, (key, raw) in enumerate(args):
        if key is None:
            if position >= len(fields):
                raise FilterOptionError(
                    f"{filter_name}: too many positional values ({len(args)}); options are: {', '.join(names) or 'none'}"
                )
            key = names[position]
        if key not in names:
            valid = ", ".join(names) or "none"
            raise FilterOptionError(
                f"{filter_name}: unknown option {key!r}{did_you_mean(key, names)}; valid options: {valid}"
            )
        if key in values:
            raise FilterOptionError(f"{filter_name}: option {key!r} given twice")
        values[key] = _convert(filter_name, key, raw, hints[key])
    try:
        options = options_cls(**values)
    except (TypeError, ValueError) as exc:
        raise FilterOptionError(f"{filter_name}: {exc}") from None
    return options
