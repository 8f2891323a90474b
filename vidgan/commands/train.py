"""``vidgan train style|teach|interp|pack``: flags from the training configs, parsed into training runs.

Every knob of a run is a field of its config dataclass (:mod:`vidgan.train.config`) with its help
and range; the flags here are generated from those fields, so a new field is a new flag.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from vidgan.commands import COMMANDS, Subcommand, add_subcommands
from vidgan.errors import UnknownNameError, VidganError
from vidgan.options import add_option_flags, options_from_flags
from vidgan.progress import ProgressMode
from vidgan.registry import Registry
from vidgan.train.checkpoint import CHECKPOINT_NAME
from vidgan.train.config import InterpTrainingConfig, PackConfig, StyleTrainingConfig, TeacherConfig

#: The adversarial objectives of :data:`vidgan.train.losses.GAN_LOSSES`, listed here so the CLI starts
#: without torch (a test keeps the two equal).
GAN_LOSSES = ("lsgan", "hinge", "wgan-gp")

TRAINING_KINDS: Registry[Subcommand] = Registry("vidgan train kind", error=UnknownNameError)


def _config(cls: type, args: argparse.Namespace, **overrides: Any) -> Any:
    """The config from the flags given; a value out of range is a one-line error naming the field."""
    try:
        return options_from_flags(cls, args, **overrides)
    except (TypeError, ValueError) as exc:
        raise VidganError(f"vidgan train {args.kind}: {exc}") from None


def _progress(args: argparse.Namespace) -> ProgressMode:
    return "json" if args.json else ("quiet" if args.quiet else "auto")


def _refuse_overwrite(out: str, resume: bool) -> None:
    if not resume and Path(out, CHECKPOINT_NAME).exists():
        raise VidganError(f"{out} already holds a run; pass --resume to continue it or --out for a new folder")


def _add_run_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=None, help="run folder (default runs/NAME-PRESET)")
    parser.add_argument("--no-amp", action="store_true", help="train in float32 on CUDA")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    parser.add_argument("--smoke", action="store_true", help="a few tiny steps: checks data, loop and checkpoints")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--json", action="store_true", help="progress as JSON lines on stderr")


# -- style ----------------------------------------------------------------------------------------

def _style_arguments(parser: argparse.ArgumentParser) -> None:
    add_option_flags(parser, StyleTrainingConfig, required_defaults=True)
    _add_run_flags(parser)
    parser.add_argument("--install", action="store_true", help="also install the result as a user style")


def _train_style(args: argparse.Namespace) -> int:
    from vidgan.models.zoo import user_dir
    from vidgan.train.style import StyleTrainer

    config = _config(StyleTrainingConfig, args, amp=not args.no_amp)
    out = args.out or f"runs/{config.name}-{config.preset}"
    if args.smoke:
        given = {key: getattr(args, key) for key in ("name", "videos", "seed", "teacher", "pairs", "loss_net")
                 if getattr(args, key) is not None}
        config = StyleTrainingConfig.smoke(config.content, config.style, out, **{**given, "videos": config.videos})
    else:
        config = dataclasses.replace(config, out=out)
    _refuse_overwrite(out, args.resume)
    weights = StyleTrainer(config).run(progress=_progress(args), resume=args.resume)
    print(f"vidgan: style {config.name!r} ({config.preset}) written to {weights}", file=sys.stderr)
    if args.install:
        folder = user_dir()
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{config.name}_{config.preset}"
        for source, target in ((weights, folder / f"{stem}.safetensors"),
                               (weights.with_suffix(".json"), folder / f"{stem}.json")):  # weights before card
            partial = target.with_name(target.name + ".partial")
            shutil.copyfile(source, partial)
            os.replace(partial, target)
        print(f"vidgan: installed as a user style in {folder}", file=sys.stderr)
    return 0


# -- interpolation --------------------------------------------------------------------------------

def _interp_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--videos", nargs="*", default=[], metavar="PATH", help="video files")
    parser.add_argument("--frames", nargs="*", default=[], metavar="DIR", help="folders of consecutive frames")
    add_option_flags(parser, InterpTrainingConfig)
    _add_run_flags(parser)


def _train_interp(args: argparse.Namespace) -> int:
    from vidgan.train.interp import interp_trainer

    sources = tuple(args.videos) + tuple(args.frames)
    config = _config(InterpTrainingConfig, args, sources=sources, amp=not args.no_amp)
    kind = "" if config.model == "interpnet" else f"{config.model}-"
    out = args.out or f"runs/{config.name}-{kind}{config.preset}"
    if args.smoke:
        config = InterpTrainingConfig.smoke(sources, out, name=config.name, preset=config.preset, seed=config.seed,
                                            photos=config.photos, model=config.model, dis_preset=config.dis_preset,
                                            lambda_adv=config.lambda_adv)
    else:
        config = dataclasses.replace(config, out=out)
    _refuse_overwrite(out, args.resume)
    weights = interp_trainer(config).run(progress=_progress(args), resume=args.resume)
    network = "interpolation network" if config.model == "interpnet" else f"{config.model} network"
    print(f"vidgan: {network} ({config.preset}) written to {weights}", file=sys.stderr)
    return 0


# -- teacher and packing --------------------------------------------------------------------------

#: What ``vidgan train teach`` paints with unless told otherwise (more steps than the library default).
TEACH_DEFAULTS = {"steps": 120}


def _teach_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--content", nargs="+", required=True, metavar="DIR", help="folders of photos")
    parser.add_argument("--style", nargs="+", required=True, metavar="DIR", help="folders of paintings")
    parser.add_argument("--out", required=True, help="pairs folder (photos/ and painted/); reruns skip done photos")
    parser.add_argument("--limit", type=int, default=None, help="paint at most this many photos")
    add_option_flags(parser, TeacherConfig, defaults=TEACH_DEFAULTS)
    parser.add_argument("-q", "--quiet", action="store_true")


def _teach(args: argparse.Namespace) -> int:
    from vidgan.train.teacher import teach_folder

    defaults = TeacherConfig()
    side = args.image_side if args.image_side is not None else defaults.image_side
    # crops and windows never larger than the side photos are painted at
    fitted = {key: min(getattr(defaults, key), side) for key in ("crop", "piece") if getattr(args, key) is None}
    config = _config(TeacherConfig, args, **fitted)
    count = teach_folder(args.content, args.style, Path(args.out), config, limit=args.limit,
                         progress="quiet" if args.quiet else "auto")
    print(f"vidgan: {count} painted pairs in {args.out}", file=sys.stderr)
    return 0


def _pack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="+", metavar="DIR", help="image or frame folders; each becomes OUT/NAME")
    parser.add_argument("--out", required=True, help="folder for the packed copies")
    add_option_flags(parser, PackConfig)


def _pack(args: argparse.Namespace) -> int:
    from vidgan.train.pack import pack_folder

    config = _config(PackConfig, args)
    out = Path(args.out)
    names = [Path(source).resolve().name for source in args.sources]
    if len(set(names)) != len(names):
        raise VidganError("two sources share a folder name; pack them into different --out folders")
    total_in = total_out = 0
    for source, name in zip(args.sources, names):
        report = pack_folder(Path(source), out / name, short_side=config.image_side, quality=config.quality)
        total_in += report.bytes_in
        total_out += report.bytes_out
        skipped = f", {report.skipped} unreadable skipped" if report.skipped else ""
        print(f"{source}: {report.images} images, {report.bytes_in / 1e6:.1f} MB -> "
              f"{report.bytes_out / 1e6:.1f} MB{skipped}", file=sys.stderr)
    print(f"vidgan: packed {total_in / 1e6:.1f} MB into {total_out / 1e6:.1f} MB under {out}", file=sys.stderr)
    return 0


TRAINING_KINDS.add("style", Subcommand("train a recurrent CycleGAN style from paintings and photos, or distil "
                                                "a trained style (--teacher)",
                                       _style_arguments, _train_style))
TRAINING_KINDS.add("pack", Subcommand("resize training folders to the training size (small enough to copy)",
                                      _pack_arguments, _pack))
TRAINING_KINDS.add("teach", Subcommand("paint photos by optimisation: paired targets for `train style --pairs`",
                                       _teach_arguments, _teach))
TRAINING_KINDS.add("interp", Subcommand("train the frame interpolation network on frame triplets",
                                        _interp_arguments, _train_interp))


@COMMANDS.register("train")
def add_parser(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="train built-in or custom models")
    add_subcommands(train, TRAINING_KINDS, dest="kind")
