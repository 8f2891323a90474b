"""``vidgan pipe -vf CHAIN``: NUT on stdin -> filters -> NUT on stdout, between two ffmpeg processes."""

from __future__ import annotations

import argparse

from vidgan.commands import COMMANDS
from vidgan.commands._common import (
    add_encoding,
    add_output_mode,
    add_processing,
    encode_options,
    print_report,
    progress_mode,
)


def cmd_pipe(args: argparse.Namespace) -> int:
    from vidgan.engine import transcode

    if args.container_format is None:
        args.container_format = "nut"
    args.quiet = args.quiet or not args.json
    report = transcode(
        "-", "-", chain=args.chain, encode=encode_options(args), device=args.device,
        allow_corrupt=args.allow_corrupt, input_format=args.input_format, progress=progress_mode(args),
    )
    if args.json:
        print_report(report, args)
    return 0


@COMMANDS.register("pipe")
def add_parser(sub: argparse._SubParsersAction) -> None:
    pipe = sub.add_parser("pipe", help="NUT on stdin -> filter -> NUT on stdout (between two ffmpeg processes)",
                          allow_abbrev=False)
    add_processing(pipe, chain_required=True)
    add_encoding(pipe, default_codec="rawvideo")
    add_output_mode(pipe)
    pipe.set_defaults(func=cmd_pipe)
