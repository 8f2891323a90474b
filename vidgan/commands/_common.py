"""Argument groups and reporting that several verbs share (input/output, processing, encoding, messages)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from vidgan.io.encode import EncodeOptions
from vidgan.progress import ProgressMode


def add_output_mode(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("messages")
    group.add_argument("-v", "--verbose", action="store_true", help="say which decoder, device and encoder are used")
    group.add_argument("-q", "--quiet", action="store_true", help="no progress bar, only errors")
    group.add_argument("--json", action="store_true", help="progress and the final report as JSON lines on stderr")


def add_processing(parser: argparse.ArgumentParser, *, chain_required: bool = False) -> None:
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


def add_encoding(parser: argparse.ArgumentParser, *, default_codec: str = "libx264") -> None:
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


def encode_options(args: argparse.Namespace) -> EncodeOptions:
    return EncodeOptions(
        codec=args.codec, crf=args.crf, preset=args.preset, pix_fmt=args.pix_fmt,
        bitrate=args.bitrate, container_format=args.container_format,
    )


def progress_mode(args: argparse.Namespace) -> ProgressMode:
    if args.json:
        return "json"
    return "quiet" if args.quiet else "auto"


def print_report(report, args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps({"report": dataclasses.asdict(report) | {"fps": round(report.fps, 2)}}), file=sys.stderr)
    elif not args.quiet:
        extra = f", {report.frames_dropped} duplicate-timestamp frames dropped" if report.frames_dropped else ""
        print(
            f"vidgan: {report.input} -> {report.output}: {report.frames_in} frames in, "
            f"{report.frames_out} out, {report.seconds:.1f} s ({report.fps:.1f} fps){extra}",
            file=sys.stderr,
        )


def add_io(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="video file, image sequence (frames/%%05d.png) or - for stdin")
    parser.add_argument("-o", "--output", required=True, help="output file (written atomically)")
    add_processing(parser)
    add_encoding(parser)
    add_output_mode(parser)
