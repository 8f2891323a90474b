"""``vidgan live``: a camera through the live pipeline to a preview, a virtual camera and/or a file."""

from __future__ import annotations

import argparse
import sys

from vidgan.commands import COMMANDS
from vidgan.errors import LiveError
from vidgan.live.camera import run_live
from vidgan.options import add_option_flags, live_option_names, values_from_flags

_DEST = "stylize_"


def _stylize_options() -> type:
    from vidgan.graph.registry import FILTERS

    return FILTERS.get("stylize").Options


def cmd_live(args: argparse.Namespace) -> int:
    from vidgan.engine import resolve_device
    from vidgan.stages.stylize import live_chain, live_options

    chain = args.chain or live_chain(live_options(**values_from_flags(_stylize_options(), args, dest_prefix=_DEST)))
    if not (args.preview or args.virtual_cam or args.record):
        raise LiveError("nothing to show: pass --preview, --virtual-cam and/or --record OUT")
    report = run_live(
        args.camera, chain, device=resolve_device(args.device), preview=args.preview, virtual_cam=args.virtual_cam,
        record=args.record, overwrite=args.overwrite, max_frames=args.frames, seconds=args.seconds,
    )
    print(f"vidgan: live: {report.summary()}", file=sys.stderr)
    return 0


@COMMANDS.register("live")
def add_parser(sub: argparse._SubParsersAction) -> None:
    live = sub.add_parser("live", help="stylize a camera live: preview window, virtual camera, recording",
                          allow_abbrev=False)
    live.add_argument("--camera", required=True, metavar="DEVICE|INDEX|FILE",
                      help="webcam index (0), device (/dev/video0, 'video=NAME' on Windows) or a video file")
    stylizer = live.add_argument_group("stylizer (the stylize filter's live options)")
    options = _stylize_options()
    add_option_flags(stylizer, options, dest_prefix=_DEST, only=live_option_names(options))
    live.add_argument("-vf", dest="chain", default=None, help="a -vf chain instead of the stylizer")
    live.add_argument("--preview", action="store_true", help="show a window (needs pygame: vidgan[live])")
    live.add_argument("--virtual-cam", action="store_true",
                      help="send to a virtual camera (needs pyvirtualcam: vidgan[live]; v4l2loopback on Linux)")
    live.add_argument("--record", default=None, metavar="OUT", help="also write what is shown to a video file")
    live.add_argument("-y", dest="overwrite", action="store_true", help="overwrite --record's file")
    live.add_argument("--frames", type=int, default=None, help="stop after this many frames")
    live.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    live.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    live.set_defaults(func=cmd_live)
