"""What a user types: one module per ``vidgan`` verb, registered in :data:`COMMANDS`.

Each verb module registers a function that adds its parser (and sets ``func``, what runs it) to
the ``vidgan`` sub-parsers; :mod:`vidgan.cli` builds its parser from this registry alone.
:data:`VERBS` is the table of built-in verb modules, in the order ``vidgan --help`` lists them;
installed packages add verbs through the ``vidgan.commands`` entry-point group.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from vidgan.registry import Registry

#: The built-in verb modules (``vidgan/commands/<module>.py``), in ``--help`` order.
VERBS = (
    "run", "stylize", "interpolate", "pipe", "batch", "doctor", "ffmpeg_plugin", "train", "styles",
    "sheet", "eval", "serve", "obs_plugin", "live", "bench",
)

AddParser = Callable[[argparse._SubParsersAction], None]

COMMANDS: Registry[AddParser] = Registry(
    "command", builtins=tuple(f"vidgan.commands.{module}" for module in VERBS), entry_point_group="vidgan.commands",
)


@dataclass(frozen=True)
class Subcommand:
    """One sub-command of a verb with sub-commands (``vidgan eval temporal``, ``vidgan train style``)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None


def add_subcommands(parser: argparse.ArgumentParser, registry: Registry[Subcommand], *, dest: str,
                    metavar: str | None = None) -> None:
    """One sub-parser per entry of ``registry``, each running its entry's ``run``."""
    actions = parser.add_subparsers(dest=dest, required=True, metavar=metavar, parser_class=type(parser))
    for name, command in registry.items():
        sub = actions.add_parser(name, help=command.help, description=command.description or command.help,
                                 allow_abbrev=False)
        command.add_arguments(sub)
        sub.set_defaults(func=command.run)
