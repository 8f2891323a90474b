"""The ``vidgan`` command line: argument parsing into engine calls, no logic of its own.

Errors the user can fix (:class:`~vidgan.errors.VidganError`) print one line,
``vidgan: error: ...``, and exit non-zero; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import signal
import sys
import typing
from collections.abc import Callable, Sequence

from vidgan.errors import Interrupted, VidganError

log = logging.getLogger("vidgan")

#: Filters that also get a command of their own (``vidgan stylize IN -o OUT --style S``) once registered.
ALIAS_FILTERS = ("stylize", "interpolate")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"vidgan: error: {message} (see {self.prog} --help)\n")


def _add_output_mode(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("messages")
    group.add_argument("-v", "--verbose", action="store_true", help="say which decoder, device and encoder are used")
    group.add_argument("-q", "--quiet", action="store_true", help="no progress bar, only errors")
    group.add_argument("--json", action="store_true", help="progress and the final report as JSON lines on stderr")


def _add_processing(parser: argparse.ArgumentParser, *, chain_required: bool = False) -> None:
    group = parser.add_argument_group("processing")
    group.add_argument(
        "-vf", "--filters", dest="chain", required=chain_required, default=None if chain_required else "null",
        metavar="CHAIN", help="filter chain, e.g. 'scale=-2:720,null,hflip' (vidgan and libavfilter filters mix)",
    )
    group.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    group.add_argument("--allow-corrupt", action="store_true",
                       help="keep the output of a damaged input (default: fail and remove it)")
    group.add_argument("--input-format", default=None, metavar="FMT", help="force the input container (e.g. nut)")
    group.add_argument("--input-fps", type=float, default=None, metavar="FPS",
                       help="frame rate of an image-sequence input (default 25)")


def _add_encoding(parser: argparse.ArgumentParser, *, default_codec: str = "libx264") -> None:
    group = parser.add_argument_group("encoding (ffmpeg's names)")
    group.add_argument("-c:v", "--codec", dest="codec", default=default_codec,
                       help=f"video encoder: libx264 (default here {default_codec}), libx265, libsvtav1, ffv1, h264_nvenc...")
    group.add_argument("-crf", "--crf", dest="crf", type=float, default=None, help="constant rate factor")
    group.add_argument("-preset", "--preset", dest="preset", default=None, help="encoder preset")
    group.add_argument("-pix_fmt", "--pix-fmt", dest="pix_fmt", default=None,
                       help="output pixel format (default: the input's when the encoder takes it)")
    group.add_argument("-b:v", "--bitrate", dest="bitrate", default=None, help="target bitrate, e.g. 4M")
    group.add_argument("-f", "--format", dest="container_format", default=None, help="output container (default: from the extension)")
    group.add_argument("-y", "--overwrite", action="store_true", help="replace an existing output (never the input)")


def _encode_options(args: argparse.Namespace):
    from vidgan.io.encode import EncodeOptions

    return EncodeOptions(
        codec=args.codec, crf=args.crf, preset=args.preset, pix_fmt=args.pix_fmt,
        bitrate=args.bitrate, container_format=args.container_format,
    )


def _progress_mode(args: argparse.Namespace) -> str:
    if args.json:
        return "json"
    return "quiet" if args.quiet else "auto"


def _print_report(report, args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps({"report": dataclasses.asdict(report) | {"fps": round(report.fps, 2)}}), file=sys.stderr)
    elif not args.quiet:
        extra = f", {report.frames_dropped} duplicate-timestamp frames dropped" if report.frames_dropped else ""
        print(
            f"vidgan: {report.input} -> {report.output}: {report.frames_in} frames in, "
            f"{report.frames_out} out, {report.seconds:.1f} s ({report.fps:.1f} fps){extra}",
            file=sys.stderr,
        )


# -- commands -----------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from vidgan.engine import transcode

    report = transcode(
        args.input, args.output, chain=args.chain, encode=_encode_options(args), device=args.device,
        overwrite=args.overwrite, allow_corrupt=args.allow_corrupt, input_format=args.input_format,
        input_fps=args.input_fps, progress=_progress_mode(args),
    )
    _print_report(report, args)
    return 0


def cmd_pipe(args: argparse.Namespace) -> int:
    from vidgan.engine import transcode

    if args.container_format is None:
        args.container_format = "nut"
    args.quiet = args.quiet or not args.json
    report = transcode(
        "-", "-", chain=args.chain, encode=_encode_options(args), device=args.device,
        allow_corrupt=args.allow_corrupt, input_format=args.input_format, progress=_progress_mode(args),
    )
    if args.json:
        _print_report(report, args)
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from vidgan.batch import run_batch

    summary = run_batch(
        args.inputs, args.out_dir, chain=args.chain, encode=_encode_options(args), device=args.device,
        extension=args.ext, overwrite=args.overwrite, allow_corrupt=args.allow_corrupt,
        progress=_progress_mode(args),
    )
    print(summary.table(), file=sys.stderr)
    return 1 if summary.failed else 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from vidgan.doctor import collect, render

    report = collect()
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


def _alias_command(filter_name: str) -> Callable[[argparse.Namespace], int]:
    def run_alias(args: argparse.Namespace) -> int:
        from vidgan.graph.spec import FilterCall

        options = [f"{name}={getattr(args, 'opt_' + name)}" for name in args.alias_fields
                   if getattr(args, "opt_" + name) is not None]
        call = str(FilterCall(filter_name, ":".join(o.replace(":", "\\:").replace(",", "\\,") for o in options)))
        args.chain = call if args.chain in (None, "null") else f"{args.chain},{call}"
        return cmd_run(args)

    return run_alias


def _add_alias_commands(sub: argparse._SubParsersAction) -> None:
    from vidgan.graph.registry import get_filter

    for name in ALIAS_FILTERS:
        stage = get_filter(name)
        if stage is None:
            continue
        doc = (stage.__doc__ or "").strip().splitlines()
        parser = sub.add_parser(name, help=doc[0] if doc else f"run the {name} filter",
                                description=f"Shorthand for: vidgan run IN -o OUT -vf {name}=...")
        _add_io(parser)
        fields = [f for f in dataclasses.fields(stage.Options) if f.init]
        group = parser.add_argument_group(f"{name} options")
        for field in fields:
            flag = f"--{field.name.replace('_', '-')}"
            if flag in parser._option_string_actions:  # e.g. stylize's preset vs the encoder's -preset
                flag = f"--{name}-{field.name.replace('_', '-')}"
            group.add_argument(flag, dest="opt_" + field.name, default=None, metavar=field.name.upper(),
                               help=f"{field.metadata.get('help', field.name)} (default {field.default})")
        parser.set_defaults(func=_alias_command(name), alias_fields=[f.name for f in fields])


def _add_io(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="video file, image sequence (frames/%%05d.png) or - for stdin")
    parser.add_argument("-o", "--output", required=True, help="output file (written atomically)")
    _add_processing(parser)
    _add_encoding(parser)
    _add_output_mode(parser)


def build_parser() -> argparse.ArgumentParser:
    from vidgan import __version__

    parser = _Parser(prog="vidgan", description="GAN video stylization and frame interpolation.", allow_abbrev=False)
    parser.add_argument("--version", action="version", version=f"vidgan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="decode, filter (-vf) and encode one video", allow_abbrev=False)
    _add_io(run)
    run.set_defaults(func=cmd_run)
    _add_alias_commands(sub)

    pipe = sub.add_parser("pipe", help="NUT on stdin -> filter -> NUT on stdout (between two ffmpeg processes)",
                          allow_abbrev=False)
    _add_processing(pipe, chain_required=True)
    _add_encoding(pipe, default_codec="rawvideo")
    _add_output_mode(pipe)
    pipe.set_defaults(func=cmd_pipe)

    batch = sub.add_parser("batch", help="process many files; resumable, one failure does not stop the rest",
                           allow_abbrev=False)
    batch.add_argument("inputs", nargs="+", metavar="GLOB", help="input files or glob patterns ('clips/**/*.mp4')")
    batch.add_argument("--out-dir", required=True, help="folder for the outputs (created if missing)")
    batch.add_argument("--ext", default=None, help="output extension (default: the input's)")
    _add_processing(batch)
    _add_encoding(batch)
    _add_output_mode(batch)
    batch.set_defaults(func=cmd_batch)

    doctor = sub.add_parser("doctor", help="what this machine offers (CUDA, NVDEC/NVENC, CuPy, Numba) and what vidgan will use")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(func=cmd_doctor)

    from vidgan.benchmark import add_commands as add_bench_commands
    from vidgan.eval.commands import add_eval_commands
    from vidgan.ffmpeg.plugin import add_commands as add_ffmpeg_plugin_commands
    from vidgan.serve.commands import add_commands as add_serve_commands
    from vidgan.sheet import add_commands as add_sheet_commands
    from vidgan.train.commands import add_commands as add_training_commands

    add_ffmpeg_plugin_commands(sub)
    add_training_commands(sub)
    add_sheet_commands(sub)
    add_eval_commands(sub)
    add_serve_commands(sub)
    add_bench_commands(sub)
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
