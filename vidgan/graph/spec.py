"""Parse FFmpeg-style filter chains: ``scale=-2:720,stylize=style=van_gogh:strength=0.8``.

The grammar is libavfilter's for a single linear chain: filters are separated by ``,``,
a filter's name is followed by ``=`` and its arguments, arguments are separated by ``:``,
and ``\\`` escapes or ``'...'`` quotes protect a separator. Graphs with labels or ``;``
are not linear chains and are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from vidgan.errors import FilterOptionError


@dataclass(frozen=True)
class FilterCall:
    """One filter of a chain: its name and its argument text exactly as written."""

    name: str
    args: str = ""

    def __str__(self) -> str:
        return f"{self.name}={self.args}" if self.args else self.name


def _split(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside quotes and escapes, keeping quotes/escapes in the parts."""
    parts, current, quoted, index = [], [], False, 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            current.append(text[index : index + 2])
            index += 2
            continue
        if char == "'":
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    if quoted:
        raise FilterOptionError(f"unterminated quote in {text!r}")
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    out, index = [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append(text[index + 1])
            index += 2
            continue
        if char != "'":
            out.append(char)
        index += 1
    return "".join(out)


def _unquoted(text: str) -> str:
    """``text`` without its quoted parts and escaped characters: what libavfilter reads as syntax."""
    out, quoted, index = [], False, 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            index += 2
            continue
        if char == "'":
            quoted = not quoted
        elif not quoted:
            out.append(char)
        index += 1
    return "".join(out)


def escape_arg(text: str) -> str:
    """``text`` as one argument value that :func:`parse_args` reads back unchanged."""
    return "".join("\\" + char if char in "\\':,;[]" else char for char in text)


def parse_chain(chain: str) -> list[FilterCall]:
    """Split a ``-vf`` chain into filter calls; an empty chain is the ``null`` filter."""
    text = chain.strip()
    if not text:
        return [FilterCall("null")]
    if any(c in _unquoted(text) for c in ";[]"):
        raise FilterOptionError(
            f"only linear filter chains are supported (no ';' or [labels]); got {chain!r}"
        )
    calls = []
    for part in _split(text, ","):
        part = part.strip()
        if not part:
            raise FilterOptionError(f"empty filter in chain {chain!r}")
        name, _, args = part.partition("=")
        name = name.strip()
        if not name.replace("_", "").replace("-", "").isalnum():
            raise FilterOptionError(f"bad filter name {name!r} in chain {chain!r}")
        calls.append(FilterCall(name, args.strip()))
    return calls


def parse_args(args: str) -> list[tuple[str | None, str]]:
    """``a=1:b='x:y'`` -> [('a', '1'), ('b', 'x:y')]; a part without ``=`` is positional."""
    if not args:
        return []
    pairs: list[tuple[str | None, str]] = []
    for part in _split(args, ":"):
        key_part = _split(part, "=")
        if len(key_part) == 1:
            pairs.append((None, _unescape(part)))
        else:
            key = _unescape(key_part[0]).strip()
            value = part[len(key_part[0]) + 1 :]
            pairs.append((key, _unescape(value)))
    return pairs
