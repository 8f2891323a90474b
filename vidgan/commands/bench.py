"""``vidgan bench``: where the time goes per resolution, next to references measured in the same run."""

from __future__ import annotations

import argparse
import datetime
import json
from dataclasses import asdict

from vidgan.bench import overview
from vidgan.bench.overview import format_table, machine_line, run_bench
from vidgan.commands import COMMANDS
from vidgan.errors import DeviceUnavailableError


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WxH, e.g. 1280x720; got {text!r}") from None
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise argparse.ArgumentTypeError(f"size must be even and at least 16x16; got {text!r}")
    return width, height


def cmd_bench(args: argparse.Namespace) -> int:
    from vidgan.engine import resolve_device

    device = resolve_device(args.device)
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise DeviceUnavailableError("--device cuda: no CUDA GPU is available here; use --device cpu")
    sizes = args.size or [(640, 360), (1280, 720)]
    rows = run_bench(sizes, device=device, frames=args.frames, use_ffmpeg=not args.no_ffmpeg)
    if args.json:
        print(json.dumps({"machine": machine_line(device), "device": device, "date": datetime.date.today().isoformat(),
                          "frames": args.frames,
                          "rows": [{**asdict(r), "fps": r.fps, "speedup": r.speedup} for r in rows]}, indent=2))
    else:
        print(f"# vidgan bench, {device}, {args.frames} frames per size; {machine_line(device)}; {datetime.date.today()}")
        print(format_table(rows))
    return 0


@COMMANDS.register("bench")
def add_parser(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser("bench", help="time each step of the pipeline per resolution, next to references",
                           description=overview.__doc__.split("\n\n")[0], allow_abbrev=False)
    bench.add_argument("--device", default="auto", help="auto, cpu, cuda")
    bench.add_argument("--size", type=_size, action="append", metavar="WxH", help="repeatable (default 640x360 1280x720)")
    bench.add_argument("--frames", type=int, default=30, help="frames of the generated clip per size (default 30)")
    bench.add_argument("--no-ffmpeg", action="store_true", help="skip the ffmpeg CLI reference")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(func=cmd_bench)
