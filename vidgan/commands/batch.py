"""``vidgan batch GLOB... --out-dir DIR``: many files, resumable, one failure does not stop the rest."""

from __future__ import annotations

import argparse
import sys

from vidgan.commands import COMMANDS
from vidgan.commands._common import (
    add_encoding,
    add_output_mode,
    add_processing,
    encode_options,
    progress_mode,
)


def cmd_batch(args: argparse.Namespace) -> int:
    from vidgan.engine.batch import run_batch

    summary = run_batch(
        args.inputs, args.out_dir, chain=args.chain, encode=encode_options(args), device=args.device,
        extension=args.ext, overwrite=args.overwrite, allow_corrupt=args.allow_corrupt,
        progress=progress_mode(args),
    )
    print(summary.table(), file=sys.stderr)
    return 1 if summary.failed else 0


@COMMANDS.register("batch")
def add_parser(sub: argparse._SubParsersAction) -> None:
    batch = sub.add_parser("batch", help="process many files; resumable, one failure does not stop the rest",
                           allow_abbrev=False)
    batch.add_argument("inputs", nargs="+", metavar="GLOB", help="input files or glob patterns ('clips/**/*.mp4')")
    batch.add_argument("--out-dir", required=True, help="folder for the outputs (created if missing)")
    batch.add_argument("--ext", default=None, help="output extension (default: the input's)")
    add_processing(batch)
    add_encoding(batch)
    add_output_mode(batch)
    batch.set_defaults(func=cmd_batch)
