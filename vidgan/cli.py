"""The ``vidgan`` command line: the parser built from the command table, errors turned into one line.

Each verb lives in its own module under :mod:`vidgan.commands`.

Errors the user can fix (:class:`~vidgan.errors.VidganError`) print one line,
``vidgan: error: ...``, and exit non-zero; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import typing
from collections.abc import Sequence

from vidgan.errors import Interrupted, VidganError

log = logging.getLogger("vidgan")

class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"vidgan: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``vidgan`` parser: one sub-parser per entry of :data:`vidgan.commands.COMMANDS`."""
    from vidgan import __version__
    from vidgan.commands import COMMANDS

    parser = _Parser(prog="vidgan", description="GAN video stylization and frame interpolation.", allow_abbrev=False)
    parser.add_argument("--version", action="version", version=f"vidgan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for _name, add_parser in COMMANDS.items():
        add_parser(sub)
    return parser


def _configure_logging(args: argparse.Namespace) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("vidgan: %(levelname)s: %(message)s"))
    log.handlers[:] = [handler]
    log.propagate = False
    if getattr(args, "verbose", False):
        log.setLevel(logging.INFO)
    elif getattr(args, "quiet", False):
        log.setLevel(logging.ERROR)
    else:
        log.setLevel(logging.WARNING)
    import av.logging

    av.logging.set_level(av.logging.ERROR if getattr(args, "verbose", False) else None)


_signals_received: list[int] = []


def _raise_interrupt(signum: int, _frame: object) -> None:
    _signals_received.append(signum)
    raise KeyboardInterrupt


def _interrupted_status() -> int:
    """128 + the signal number, as shells report it: 130 for Ctrl-C, 143 for SIGTERM."""
    return 128 + (_signals_received[-1] if _signals_received else signal.SIGINT)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return args.func(args)
    except Interrupted as exc:
        print(f"vidgan: error: {exc}", file=sys.stderr)
        return _interrupted_status()
    except KeyboardInterrupt:
        print("vidgan: error: interrupted", file=sys.stderr)
        return _interrupted_status()
    except VidganError as exc:
        print(f"vidgan: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
