"""``vidgan train style|teach|interp|pack``: argument parsing into training runs."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from vidgan.commands import COMMANDS
from vidgan.errors import VidganError
from vidgan.train.checkpoint import CHECKPOINT_NAME


def _train_style(args: argparse.Namespace) -> int:
    from vidgan.models.zoo import user_dir
    from vidgan.train.style import StyleTrainer, StyleTrainingConfig

    out = args.out or f"runs/{args.name}-{args.preset}"
    if args.smoke:
        config = StyleTrainingConfig.smoke(tuple(args.content), tuple(args.style), out, name=args.name,
                                           videos=tuple(args.videos), seed=args.seed)
    else:
        settings = {key: getattr(args, key) for key in (
            "steps", "batch", "crop", "lr", "gan_loss", "lambda_cycle", "lambda_identity", "lambda_temporal",
            "lambda_style", "lambda_content", "lambda_adv", "lambda_paired", "style_term", "style_levels", "pairs", "image_side",
            "disc_width", "disc_scales", "checkpoint_every", "seed", "device") if getattr(args, key) is not None}
        if args.crop_scale is not None:
            settings["crop_scale"] = tuple(args.crop_scale)
        config = StyleTrainingConfig(name=args.name, content=tuple(args.content), style=tuple(args.style),
                                     videos=tuple(args.videos), preset=args.preset, out=out,
                                     amp=not args.no_amp, compile=args.compile, **settings)
    if not args.resume and Path(out, CHECKPOINT_NAME).exists():
        raise VidganError(f"{out} already holds a run; pass --resume to continue it or --out for a new folder")
    weights = StyleTrainer(config).run(progress="json" if args.json else ("quiet" if args.quiet else "auto"),
                                       resume=args.resume)
    print(f"vidgan: style {args.name!r} ({config.preset}) written to {weights}", file=sys.stderr)
    if args.install:
        folder = user_dir()
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{args.name}_{config.preset}"
        shutil.copyfile(weights, folder / f"{stem}.safetensors")
        shutil.copyfile(weights.with_suffix(".json"), folder / f"{stem}.json")
        print(f"vidgan: installed as a user style in {folder}", file=sys.stderr)
    return 0


def _train_interp(args: argparse.Namespace) -> int:
    from vidgan.train.interp import InterpTrainer, InterpTrainingConfig

    sources = tuple(args.videos) + tuple(args.frames)
    out = args.out or f"runs/{args.name}-{args.preset}"
    if args.smoke:
        config = InterpTrainingConfig.smoke(sources, out, name=args.name, preset=args.preset, seed=args.seed,
                                            photos=tuple(args.photos))
    else:
        settings = {key: getattr(args, key) for key in (
            "steps", "batch", "crop", "lr", "image_side", "max_frames", "lambda_adv", "lambda_flow", "checkpoint_every",
            "device", "synthetic", "max_motion")
            if getattr(args, key) is not None}
        if args.skips:
            settings["skips"] = tuple(args.skips)
        config = InterpTrainingConfig(name=args.name, sources=sources, photos=tuple(args.photos), out=out,
                                      preset=args.preset, seed=args.seed, amp=not args.no_amp, **settings)
    if not args.resume and Path(out, CHECKPOINT_NAME).exists():
        raise VidganError(f"{out} already holds a run; pass --resume to continue it or --out for a new folder")
    weights = InterpTrainer(config).run(progress="json" if args.json else ("quiet" if args.quiet else "auto"),
                                        resume=args.resume)
    print(f"vidgan: interpolation network ({config.preset}) written to {weights}", file=sys.stderr)
    return 0


def _pack(args: argparse.Namespace) -> int:
    from vidgan.train.pack import pack_folder

    out = Path(args.out)
    names = [Path(source).resolve().name for source in args.sources]
    if len(set(names)) != len(names):
        raise VidganError("two sources share a folder name; pack them into different --out folders")
    total_in = total_out = 0
    for source, name in zip(args.sources, names):
        report = pack_folder(Path(source), out / name, short_side=args.image_side, quality=args.quality)
        total_in += report.bytes_in
        total_out += report.bytes_out
        skipped = f", {report.skipped} unreadable skipped" if report.skipped else ""
        print(f"{source}: {report.images} images, {report.bytes_in / 1e6:.1f} MB -> "
              f"{report.bytes_out / 1e6:.1f} MB{skipped}", file=sys.stderr)
    print(f"vidgan: packed {total_in / 1e6:.1f} MB into {total_out / 1e6:.1f} MB under {out}", file=sys.stderr)
    return 0


def _teach(args: argparse.Namespace) -> int:
    from vidgan.train.teacher import TeacherConfig, teach_folder

    defaults = TeacherConfig()
    config = TeacherConfig(steps=args.steps, image_side=args.image_side, seed=args.seed,
                           crop=min(defaults.crop, args.image_side), piece=min(defaults.piece, args.image_side))
    count = teach_folder(args.content, args.style, Path(args.out), config, limit=args.limit,
                         progress="quiet" if args.quiet else "auto")
    print(f"vidgan: {count} painted pairs in {args.out}", file=sys.stderr)
    return 0


#: The adversarial objectives of vidgan.train.losses.GanLoss, listed here so the CLI starts without torch.
GAN_LOSSES = ("lsgan", "hinge", "wgan-gp")


@COMMANDS.register("train")
def add_parser(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="train built-in or custom models")
    kinds = train.add_subparsers(dest="kind", required=True, parser_class=type(train))
    style = kinds.add_parser("style", help="train a recurrent CycleGAN style from paintings and photos",
                             allow_abbrev=False)
    style.add_argument("--content", nargs="+", required=True, metavar="DIR", help="folders of photos (content)")
    style.add_argument("--style", nargs="+", required=True, metavar="DIR", help="folders of paintings (the style)")
    style.add_argument("--videos", nargs="*", default=[], metavar="PATH",
                       help="videos or frame folders for real consecutive frames (optional)")
    style.add_argument("--name", required=True, help="style name, e.g. van_gogh")
    style.add_argument("--preset", choices=["lite", "full"], default="lite")
    style.add_argument("--out", default=None, help="run folder (default runs/NAME-PRESET)")
    style.add_argument("--steps", type=int)
    style.add_argument("--batch", type=int)
    style.add_argument("--crop", type=int)
    style.add_argument("--lr", type=float)
    style.add_argument("--gan-loss", dest="gan_loss", choices=GAN_LOSSES)
    style.add_argument("--lambda-cycle", dest="lambda_cycle", type=float)
    style.add_argument("--lambda-identity", dest="lambda_identity", type=float)
    style.add_argument("--lambda-temporal", dest="lambda_temporal", type=float)
    style.add_argument("--lambda-style", dest="lambda_style", type=float,
                       help="weight of the patch sliced-Wasserstein style term (0 turns it off)")
    style.add_argument("--lambda-content", dest="lambda_content", type=float,
                       help="weight of the layout term (low-pass luminance kept); an alternative to the cycle")
    style.add_argument("--lambda-adv", dest="lambda_adv", type=float,
                       help="weight of the adversarial terms (0: no discriminators are trained)")
    style.add_argument("--pairs", default=None, metavar="DIR",
                       help="(photo, painted) pairs from `vidgan train teach`: distil the optimiser's paintings")
    style.add_argument("--lambda-paired", dest="lambda_paired", type=float, help="weight of the L1 to the pairs")
    style.add_argument("--style-term", dest="style_term", choices=["swd", "moments", "both"],
                       help="patch statistics compared with the paintings' bank")
    style.add_argument("--style-levels", dest="style_levels", type=int,
                       help="finest pyramid bands in the style term (0: all, low-pass colours included)")
    style.add_argument("--crop-scale", dest="crop_scale", type=float, nargs=2, metavar=("LOW", "HIGH"),
                       help="crop window as a fraction of the short side (crop/image-side: native scale)")
    style.add_argument("--image-side", dest="image_side", type=int,
                       help="short side images are kept at before cropping; match the stylize scale")
    style.add_argument("--disc-width", dest="disc_width", type=int)
    style.add_argument("--disc-scales", dest="disc_scales", type=int)
    style.add_argument("--checkpoint-every", dest="checkpoint_every", type=int)
    style.add_argument("--seed", type=int, default=0)
    style.add_argument("--device", default=None, help="auto, cpu, cuda")
    style.add_argument("--no-amp", action="store_true", help="train in float32 on CUDA")
    style.add_argument("--compile", action="store_true", help="torch.compile the generator step")
    style.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    style.add_argument("--install", action="store_true", help="also install the result as a user style")
    style.add_argument("--smoke", action="store_true", help="a few tiny steps: checks data, loop and checkpoints")
    style.add_argument("-q", "--quiet", action="store_true")
    style.add_argument("--json", action="store_true", help="progress as JSON lines on stderr")
    style.set_defaults(func=_train_style)

    pack = kinds.add_parser("pack", help="resize training folders to the training size (small enough to copy)")
    pack.add_argument("sources", nargs="+", metavar="DIR", help="image or frame folders; each becomes OUT/NAME")
    pack.add_argument("--out", required=True, help="folder for the packed copies")
    pack.add_argument("--image-side", dest="image_side", type=int, default=360, help="short side to keep (px)")
    pack.add_argument("--quality", type=int, default=92, help="JPEG quality")
    pack.set_defaults(func=_pack)

    teach = kinds.add_parser("teach", help="paint photos by optimisation: paired targets for `train style --pairs`")
    teach.add_argument("--content", nargs="+", required=True, metavar="DIR", help="folders of photos")
    teach.add_argument("--style", nargs="+", required=True, metavar="DIR", help="folders of paintings")
    teach.add_argument("--out", required=True, help="pairs folder (photos/ and painted/); reruns skip done photos")
    teach.add_argument("--steps", type=int, default=120, help="optimisation steps per photo")
    teach.add_argument("--image-side", dest="image_side", type=int, default=360, help="short side painted at (px)")
    teach.add_argument("--limit", type=int, default=None, help="paint at most this many photos")
    teach.add_argument("--seed", type=int, default=0)
    teach.add_argument("-q", "--quiet", action="store_true")
    teach.set_defaults(func=_teach)

    interp = kinds.add_parser("interp", help="train the frame interpolation network on frame triplets",
                              allow_abbrev=False)
    interp.add_argument("--videos", nargs="*", default=[], metavar="PATH", help="video files")
    interp.add_argument("--frames", nargs="*", default=[], metavar="DIR", help="folders of consecutive frames")
    interp.add_argument("--photos", nargs="*", default=[], metavar="DIR",
                        help="photo folders for synthetic triplets: layered scenes with exact, large motion")
    interp.add_argument("--synthetic", type=float, help="share of synthetic triplets when photos are given (0.5)")
    interp.add_argument("--max-motion", dest="max_motion", type=int,
                        help="largest synthetic displacement between the end frames, px per axis (24)")
    interp.add_argument("--preset", choices=["lite", "full"], default="lite")
    interp.add_argument("--name", default="interp", help="weights are written as NAME_PRESET.safetensors")
    interp.add_argument("--out", default=None, help="run folder (default runs/NAME-PRESET)")
    interp.add_argument("--steps", type=int)
    interp.add_argument("--batch", type=int)
    interp.add_argument("--crop", type=int)
    interp.add_argument("--lr", type=float)
    interp.add_argument("--skips", type=int, nargs="+", help="frame steps of the triplets (default 1 2)")
    interp.add_argument("--image-side", dest="image_side", type=int, help="short side frames are kept at")
    interp.add_argument("--max-frames", dest="max_frames", type=int, help="frames kept per source")
    interp.add_argument("--lambda-adv", dest="lambda_adv", type=float, help="adversarial weight (0: no discriminator)")
    interp.add_argument("--lambda-flow", dest="lambda_flow", type=float,
                        help="weight of the flow distillation toward DIS flows from the true middle frame (0: off)")
    interp.add_argument("--checkpoint-every", dest="checkpoint_every", type=int)
    interp.add_argument("--seed", type=int, default=0)
    interp.add_argument("--device", default=None, help="auto, cpu, cuda")
    interp.add_argument("--no-amp", action="store_true", help="train in float32 on CUDA")
    interp.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    interp.add_argument("--smoke", action="store_true", help="a few tiny steps: checks data, loop and checkpoints")
    interp.add_argument("-q", "--quiet", action="store_true")
    interp.add_argument("--json", action="store_true", help="progress as JSON lines on stderr")
    interp.set_defaults(func=_train_interp)

