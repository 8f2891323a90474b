"""``vidgan run IN -o OUT -vf CHAIN``: decode, filter and encode one video."""

from __future__ import annotations

import argparse

from vidgan.commands import COMMANDS
from vidgan.commands._common import add_io, encode_options, print_report, progress_mode


def cmd_run(args: argparse.Namespace) -> int:
    from vidgan.engine import transcode

    report = transcode(
        args.input, args.output, chain=args.chain, encode=encode_options(args), device=args.device,
        overwrite=args.overwrite, allow_corrupt=args.allow_corrupt, input_format=args.input_format,
        input_fps=args.input_fps, progress=progress_mode(args),
    )
    print_report(report, args)
    return 0


@COMMANDS.register("run")
def add_parser(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="decode, filter (-vf) and encode one video", allow_abbrev=False)
    add_io(run)
    run.set_defaults(func=cmd_run)
