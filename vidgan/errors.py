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


class UnknownNameError(VidganError, LookupError):
    """A name looked up in one of vidgan's registries (filter, style, model, backend) is unknown."""


class UnknownFilterError(UnknownNameError):
    """A ``-vf`` chain names a filter that neither vidgan nor libavfilter provides."""


class FilterOptionError(VidganError, ValueError):
    """A filter in a ``-vf`` chain got an option it does not take, or a bad value."""


class EncodeError(VidganError, ValueError):
    """The encoder refused the requested settings (codec, pixel format, size)."""


class DeviceUnavailableError(VidganError, RuntimeError):
    """The device asked for (``--device cuda``) is not available on this machine."""


class Interrupted(VidganError):
    """Stopped by SIGINT / SIGTERM; partial output has been removed."""

    exit_code = 130


class UnknownStyleError(UnknownNameError):
    """No built-in or user style has that name."""


class ModelFileError(VidganError, ValueError):
    """A weights file is corrupt, unsafe (pickle) or does not fit the architecture its card names."""


class UnknownInterpolatorError(UnknownNameError):
    """An interpolation model name that nothing is registered under."""


class UnknownMotionError(UnknownNameError):
    """A motion backend name that no backend is registered under."""


class UnknownFlowPresetError(UnknownNameError):
    """An optical-flow preset name that no OpenCV DIS preset has."""


class MotionOptionError(VidganError, ValueError):
    """A motion backend got an option it does not take, or a bad value."""


class EvalInputError(VidganError, ValueError):
    """The inputs of an evaluation cannot be compared (too few frames, too small, not images)."""


class FrameMismatchError(EvalInputError):
    """Two videos compared frame by frame differ in frame count or size."""


class TrainingDataError(VidganError, ValueError):
    """A training folder is missing or empty, or nothing in it could be read."""


class TrainingDivergedError(VidganError, FloatingPointError):
    """A training loss became NaN or infinite; the last checkpoint is kept."""


class LiveError(VidganError, RuntimeError):
    """The camera, preview or virtual camera could not be used."""


class ServeError(VidganError, OSError):
    """The server cannot start (socket in use, folder not private, ...)."""


class ProtocolError(VidganError, ValueError):
    """A message that breaks the protocol (bad magic, version, size, type or payload)."""


class ServerError(ProtocolError):
    """The server answered with ERROR."""


class PluginBuildError(VidganError, OSError):
    """The frei0r plugin could not be built; the message names what to install."""


class CompilerNotFoundError(PluginBuildError):
    """No C compiler on PATH."""


class Frei0rHeaderNotFoundError(PluginBuildError):
    """frei0r.h is not installed."""


class PythonHeadersNotFoundError(PluginBuildError):
    """Python.h of this interpreter is not installed."""


class LibpythonNotFoundError(PluginBuildError):
    """This interpreter has no shared libpython to embed."""


class ObsPluginBuildError(VidganError, OSError):
    """The OBS plugin could not be built or installed; the message names what is missing."""


class Frei0rChainError(VidganError, ValueError):
    """The chain cannot run as a frei0r filter (not one frame in, one frame out, same size)."""


class InterpolateError(VidganError):
    """Input the interpolator cannot work on (one frame, a size change mid-stream, no timestamps)."""



def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
