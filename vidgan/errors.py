"""One error root for everything vidgan reports to a user.

The CLI prints ``vidgan: error: <message>`` for a :class:`VidganError` and exits non-zero;
any other exception is a bug and keeps its traceback. Each error also inherits the builtin
that fits, so library callers can catch ``FileNotFoundError`` or ``ValueError`` as usual.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class VidganError(Exception):
    """Base of every error that is the user's input, not a bug."""

    exit_code = 1


class InputNotFoundError(VidganError, FileNotFoundError):
    """The input path does not exist."""


class UnsupportedInputError(VidganError, ValueError):
    """The input exists but is not a video vidgan can decode (or is empty)."""


class CorruptInputError(VidganError, ValueError):
    """Decoding stopped on damaged data before the end of the input."""


class OutputError(VidganError, OSError):
    """The output cannot be written where asked (exists, is the input, folder unwritable, disk full)."""


class UnknownFilterError(VidganError, LookupError):
    """A ``-vf`` chain names a filter that neither vidgan nor libavfilter provides."""


class FilterOptionError(VidganError, ValueError):
    """A filter in a ``-vf`` chain got an option it does not take, or a bad value."""


class EncodeError(VidganError, ValueError):
    """The encoder refused the requested settings (codec, pixel format, size)."""


class Interrupted(VidganError):
    """Stopped by SIGINT / SIGTERM; partial output has been removed."""

    exit_code = 130


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
