"""vidgan's own filters: name -> stage class with a typed ``Options`` dataclass.

Filters register next to their definition::

    @register_filter("null")
    class NullStage(Stage):
        @dataclass(frozen=True)
        class Options: ...
        def __init__(self, options: Options, context: StageContext): ...

Options arrive as ``-vf`` text (``stylize=style=van_gogh:strength=0.8``) and become the dataclass
through :func:`vidgan.options.build_options`. Installed packages add filters through the
``vidgan.filters`` entry-point group.
"""

from __future__ import annotations

import dataclasses

from vidgan.errors import UnknownFilterError
from vidgan.graph.stage import Stage, StageContext
from vidgan.options import build_options
from vidgan.registry import Registry


def _check_stage(name: str, cls: type[Stage]) -> None:
    if not dataclasses.is_dataclass(getattr(cls, "Options", None)):
        raise TypeError(f"{cls.__qualname__} needs a dataclass named Options")
    cls.filter_name = name


FILTERS: Registry[type[Stage]] = Registry(
    "vidgan filter", builtins=("vidgan.stages",), entry_point_group="vidgan.filters",
    error=UnknownFilterError, check=_check_stage,
)

#: ``@register_filter("name")`` on a Stage subclass.
register_filter = FILTERS.register


def filter_names() -> list[str]:
    return FILTERS.names()


def get_filter(name: str) -> type[Stage] | None:
    return FILTERS.find(name)


def create_stage(name: str, args: list[tuple[str | None, str]], context: StageContext) -> Stage:
    cls = FILTERS.get(name)
    return cls(build_options(name, cls.Options, args), context)


__all__ = ["FILTERS", "build_options", "create_stage", "filter_names", "get_filter", "register_filter"]
