"""A command of its own for a filter (``vidgan stylize IN -o OUT --style S``), derived from its Options.

The command is ``vidgan run IN -o OUT -vf NAME=...`` with one flag per option field; the flags come
from the options dataclass (:func:`vidgan.options.add_option_flags`), so a new option shows up here
without touching this module.
"""

from __future__ import annotations

import argparse

from vidgan.commands import AddParser
from vidgan.commands._common import add_io
from vidgan.commands.run import cmd_run
from vidgan.graph.spec import FilterCall, escape_arg
from vidgan.options import add_option_flags, flags_as_filter_args

_DEST = "opt_"


def filter_command(filter_name: str) -> AddParser:
    """The ``add_parser`` of the command named after ``filter_name``."""

    def run_filter(args: argparse.Namespace) -> int:
        from vidgan.graph.registry import FILTERS

        options = flags_as_filter_args(FILTERS.get(filter_name).Options, args, dest_prefix=_DEST)
        call = str(FilterCall(filter_name, ":".join(escape_arg(o) for o in options)))
        args.chain = call if args.chain in (None, "null") else f"{args.chain},{call}"
        return cmd_run(args)

    def add_parser(sub: argparse._SubParsersAction) -> None:
        from vidgan.graph.registry import FILTERS

        stage = FILTERS.get(filter_name)
        doc = (stage.__doc__ or "").strip().splitlines()
        parser = sub.add_parser(filter_name, help=doc[0] if doc else f"run the {filter_name} filter",
                                description=f"Shorthand for: vidgan run IN -o OUT -vf {filter_name}=...",
                                allow_abbrev=False)
        add_io(parser)
        group = parser.add_argument_group(f"{filter_name} options")
        add_option_flags(group, stage.Options, dest_prefix=_DEST, taken=parser._option_string_actions,
                         flag_prefix=f"{filter_name}-")
        parser.set_defaults(func=run_filter)

    return add_parser
