"""``vidgan sheet``: a contact sheet of inputs beside their stylizations."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vidgan.commands import COMMANDS


def cmd_sheet(args: argparse.Namespace) -> int:
    from vidgan.engine import resolve_device
    from vidgan.eval.sheet import make_sheet, parse_aspect
    from vidgan.eval.stylized import style_columns

    device = resolve_device(args.device)
    columns = style_columns(args.styles, args.preset)
    path = make_sheet(args.inputs, columns, Path(args.output), height=args.height, aspect=parse_aspect(args.aspect),
                      frames_per_video=args.frames, warmup=args.warmup, device=device,
                      max_bytes=int(args.max_kb * 1000))
    print(f"vidgan: wrote {path} ({len(columns)} style columns)", file=sys.stderr)
    return 0


@COMMANDS.register("sheet")
def add_parser(sub: argparse._SubParsersAction) -> None:
    from vidgan.eval.stylized import PRESET_CHOICES

    parser = sub.add_parser("sheet", help="contact sheet JPEG/PNG: inputs beside their stylizations",
                            description="One row per photo or video frame, one column per style model, under a "
                                        "labelled header; every input centre-cropped to one aspect ratio.")
    parser.add_argument("inputs", nargs="+", help="images and/or videos (evenly spaced frames are taken)")
    parser.add_argument("-o", "--output", required=True, help="sheet to write: .jpg/.jpeg (fitted to --max-kb) or .png")
    parser.add_argument("--styles", nargs="*", default=None, help="styles or .safetensors files (default: all installed)")
    parser.add_argument("--preset", default="auto", choices=PRESET_CHOICES,
                        help="lite, full, both (a column per installed preset) or auto (default: one per style)")
    parser.add_argument("--height", type=int, default=256, help="row (tile) height in pixels (default 256)")
    parser.add_argument("--aspect", default="4:3", help="W:H every input is centre-cropped to (default 4:3)")
    parser.add_argument("--frames", type=int, default=2, help="frames taken from each video")
    parser.add_argument("--warmup", type=int, default=4,
                        help="frames of a video stylized before the one shown, for the recurrence (default 4)")
    parser.add_argument("--max-kb", type=float, default=1500, help="JPEG size budget in kB (default 1500)")
    parser.add_argument("--device", default="auto")
    parser.set_defaults(func=cmd_sheet)
