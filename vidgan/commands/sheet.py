"""``vidgan sheet``: a contact sheet of inputs beside their stylizations."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vidgan.commands import COMMANDS
from vidgan.errors import UnknownStyleError
from vidgan.eval.sheet import make_sheet


def cmd_sheet(args: argparse.Namespace) -> int:
    from vidgan.engine import resolve_device
    from vidgan.models.zoo import style_names

    styles = args.styles or style_names()
    if not styles:
        raise UnknownStyleError("no styles installed; train one with: vidgan train style ...")
    path = make_sheet(args.inputs, styles, Path(args.output), height=args.height,
                      frames_per_video=args.frames, device=resolve_device(args.device), preset=args.preset)
    print(f"vidgan: wrote {path}", file=sys.stderr)
    return 0


@COMMANDS.register("sheet")
def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sheet", help="contact sheet PNG: inputs beside their stylizations")
    parser.add_argument("inputs", nargs="+", help="images and/or videos (evenly spaced frames are taken)")
    parser.add_argument("-o", "--output", required=True, help="PNG to write")
    parser.add_argument("--styles", nargs="*", default=None, help="styles (default: all installed)")
    parser.add_argument("--height", type=int, default=256, help="row height in pixels")
    parser.add_argument("--frames", type=int, default=2, help="frames taken from each video")
    parser.add_argument("--preset", default="auto", choices=["auto", "lite", "full"])
    parser.add_argument("--device", default="auto")
    parser.set_defaults(func=cmd_sheet)
