"""One registry type for everything vidgan looks up by name: filters, motion backends,
interpolators, GAN losses, kernels and commands.

Entries register next to their definition (``@FILTERS.register("stylize")``). A registry knows
the modules that hold its built-in entries by name only and imports them on first lookup, so
the registry never imports its entries at import time (no cycle), and a third-party package can
add entries through an entry-point group (``[project.entry-points."vidgan.filters"]``)::

    >>> shapes = Registry("shape")
    >>> @shapes.register("square")
    ... def square(side: float) -> float:
    ...     return side * side
    >>> shapes.get("square")(3.0)
    9.0
    >>> shapes.get("sqare")
    Traceback (most recent call last):
    ...
    vidgan.errors.UnknownNameError: unknown shape 'sqare' (did you mean 'square'?); available: square
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator, Sequence
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from vidgan.errors import UnknownNameError, did_you_mean

log = logging.getLogger("vidgan")

T = TypeVar("T")


class Registry(Generic[T]):
    """Names -> entries of one kind; a name is registered once.

    ``builtins`` names the modules whose import registers the built-in entries; ``entry_point_group``
    is where installed packages add theirs; ``error`` is the :class:`UnknownNameError` subclass an
    unknown name raises (e.g. ``UnknownFilterError``), so callers can catch by kind; ``check``
    refuses an entry that does not fit the kind (raising TypeError) before it is added.
    """

    def __init__(
        self,
        kind: str,
        *,
        builtins: Sequence[str] = (),
        entry_point_group: str | None = None,
        error: type[UnknownNameError] = UnknownNameError,
        check: Callable[[str, T], None] | None = None,
    ) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._builtins = tuple(builtins)
        self._entry_point_group = entry_point_group
        self._error = error
        self._check = check
        self._loaded = not self._builtins and entry_point_group is None

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator adding ``entry`` under ``name``; returns the entry unchanged."""

        def add(entry: T) -> T:
            self.add(name, entry)
            return entry

        return add

    def add(self, name: str, entry: T) -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered ({self._entries[name]!r})")
        if self._check is not None:
            self._check(name, entry)
        self._entries[name] = entry

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True  # before importing: the modules register through this very registry
        for module in self._builtins:
            importlib.import_module(module)
        if self._entry_point_group is not None:
            for point in entry_points(group=self._entry_point_group):
                try:
                    self.add(point.name, point.load())
                except Exception as exc:  # a broken third-party package must not take vidgan down
                    log.warning("cannot load %s %r from %s: %s", self.kind, point.name, point.value, exc)

    def get(self, name: str) -> T:
        """The entry named ``name``; an unknown name raises with a did-you-mean and the valid names."""
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            names = self.names()
            raise self._error(
                f"unknown {self.kind} {name!r}{did_you_mean(name, names)}; available: {', '.join(names) or 'none'}"
            ) from None

    def find(self, name: str) -> T | None:
        """The entry named ``name``, or None."""
        self._load()
        return self._entries.get(name)

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def items(self) -> list[tuple[str, T]]:
        """(name, entry) pairs in registration order (built-ins in the order their modules register)."""
        self._load()
        return list(self._entries.items())

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._entries)} entries)"
