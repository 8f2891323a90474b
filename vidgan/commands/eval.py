"""``vidgan eval METRIC ...``: one sub-command per metric, looked up in :data:`EVAL_METRICS`.

A metric joins the command line by adding a :class:`~vidgan.commands.Subcommand` (its arguments
and the function that runs it) to the registry; the ``eval`` parser is built from it.
The metrics themselves live in :mod:`vidgan.eval` (temporal, style, interp), imported only when a
command runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vidgan.commands import COMMANDS, Subcommand, add_subcommands
from vidgan.errors import EvalInputError, UnknownNameError
from vidgan.eval.stylized import PRESET_CHOICES
from vidgan.models.flow import DIS_PRESETS
from vidgan.registry import Registry

#: ``vidgan eval`` metrics by name, in the order ``--help`` lists them.
EVAL_METRICS: Registry[Subcommand] = Registry("vidgan eval metric", error=UnknownNameError)


@COMMANDS.register("eval")
def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``eval`` and one sub-command per registered metric."""
    parser = sub.add_parser(
        "eval", help="measure quality: temporal consistency (E_warp), style distance (SWD), interpolation",
        description="Quality metrics for stylized video; see docs/eval.md for the definitions.",
    )
    add_subcommands(parser, EVAL_METRICS, dest="metric", metavar="METRIC")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


# -- vidgan eval temporal -----------------------------------------------------------------------

def _temporal_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("original", metavar="ORIGINAL", help="the input video (or frame folder): flows and occlusions come from it")
    parser.add_argument("stylized", metavar="STYLIZED", help="the stylized video (or frame folder), same frame count")
    parser.add_argument("--max-frames", type=_positive_int, default=None, metavar="N",
                        help="compare only the first N frames of each")
    parser.add_argument("--flow-preset", choices=DIS_PRESETS, default="medium",
                        help="OpenCV DIS optical-flow preset (default medium)")
    parser.add_argument("--skip-cuts", action="store_true",
                        help="leave pairs across a shot change of the original out of the means")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")


def format_temporal(report) -> str:
    """The ``vidgan eval temporal`` table for a :class:`~vidgan.eval.temporal.TemporalReport`."""
    from vidgan.eval.temporal import GOAL_RATIO

    width, height = report.size
    lines = [
        f"E_warp (Lai et al., ECCV 2018): flow and occlusions from the original "
        f"(OpenCV DIS '{report.preset}', grey frames)",
        f"  original  {report.original_path}  {width}x{height}, {report.frames} frames, {report.pairs} pairs, "
        f"{100 * report.valid_fraction:.1f}% of pixels valid",
        f"  stylized  {report.stylized_path}",
    ]
    if report.skipped_pairs:
        lines.append(f"  note: {len(report.skipped_pairs)} pair(s) across shot changes left out "
                     f"(pairs {', '.join(map(str, report.skipped_pairs))})")
    if report.resized:
        lines.append(f"  note: stylized frames are {report.stylized_size[0]}x{report.stylized_size[1]}; "
                     f"resized to {width}x{height} before comparing")
    lines += [
        "",
        f"  {'':<18}{'E_warp':>12}{'paper (x3)':>14}",
        f"  {'stylized':<18}{report.stylized.ewarp:>12.6f}{report.stylized.ewarp_paper:>14.6f}",
        f"  {'original itself':<18}{report.original.ewarp:>12.6f}{report.original.ewarp_paper:>14.6f}",
    ]
    if report.ratio is None:
        lines.append("  ratio             n/a (the original's own E_warp is 0)")
    else:
        verdict = "met" if report.meets_goal else "not met"
        lines.append(f"  {'ratio':<18}{report.ratio:>11.2f}x   (goal <= {GOAL_RATIO:g}x the original's: {verdict})")
    lines += [
        "",
        "E_warp: mean over frame pairs of the squared RGB error (0-1 scale) over valid values (pixels x 3),",
        "as in the authors' released code; the paper's equation sums the 3 channels per pixel (3x larger).",
    ]
    return "\n".join(lines)


def _run_temporal(args: argparse.Namespace) -> int:
    from vidgan.eval.temporal import warping_error

    report = warping_error(args.original, args.stylized, max_frames=args.max_frames, preset=args.flow_preset,
                           skip_cuts=args.skip_cuts)
    print(json.dumps(report.to_dict()) if args.json else format_temporal(report))
    return 0


EVAL_METRICS.add("temporal", Subcommand(
    help="temporal warping error E_warp of a stylized video against its original",
    description="Temporal warping error E_warp (Lai et al., ECCV 2018) of STYLIZED, with optical flow and "
                "occlusions computed on ORIGINAL; also the original's own E_warp and the ratio.",
    add_arguments=_temporal_arguments,
    run=_run_temporal,
))


# -- vidgan eval style --------------------------------------------------------------------------
def _style_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paintings", metavar="PAINTINGS", help="folder of paintings: the style reference")
    parser.add_argument("output", metavar="OUT", help="stylized video or frame folder")
    parser.add_argument("input", metavar="INPUT", nargs="?", default=None,
                        help="the unstylized input (video or frame folder), for the ratio OUT/INPUT")
    parser.add_argument("--frames", type=_positive_int, default=16, metavar="N",
                        help="frames sampled evenly from each video (default 16)")
    parser.add_argument("--seed", type=int, default=0, help="seed of patch positions and projections (default 0)")
    parser.add_argument("--loss-net", default=None, metavar="FILE",
                        help="VGG19 conv1_1..relu3_1 safetensors for the perceptual style distance "
                             "(default $VIDGAN_LOSS_NET; without one that row is not measured)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    several = parser.add_argument_group(
        "several style models in one run",
        "with --styles, give PAINTINGS INPUT: INPUT is stylized here by each model and each is scored "
        "against PAINTINGS/NAME (PAINTINGS itself for a single style); one table, a row per style and preset")
    several.add_argument("--styles", nargs="+", default=None, metavar="NAME",
                         help="styles or .safetensors files (commas allowed; 'all': every installed style)")
    several.add_argument("--preset", choices=PRESET_CHOICES, default=None,
                         help="lite, full, both (default: every installed preset) or auto")
    several.add_argument("--motion", choices=("auto", "dis", "none"), default=None,
                         help="the stage's motion (default auto: dis for a video, none for a photo folder)")
    several.add_argument("--device", default=None, help="device the models run on (default auto)")


def _look_rows(report) -> list[str]:
    """The perceptual, colour and edge rows of the style table (``not measured: why`` where they could not be)."""
    from vidgan.eval.look import NotMeasured

    def number(value: float | None, digits: int = 4) -> str:
        return f"{'-':>10}" if value is None else f"{value:>10.{digits}f}"

    lines = ["", f"  {'what a viewer sees':<34}{'output':>10}{'input':>10}{'ratio':>10}"]
    perceptual, colour, edges = report.perceptual, report.colour, report.edges
    label = "perceptual style (VGG Gram)"
    if isinstance(perceptual, NotMeasured):
        lines.append(f"  {label:<34}not measured: {perceptual.reason}")
    else:
        inp = None if perceptual.input is None else perceptual.input.mean
        lines.append(f"  {label:<34}{number(perceptual.output.mean)}{number(inp)}{number(perceptual.ratio, 3)}")
    label = "Lab colour distance (SWD)"
    if isinstance(colour, NotMeasured):
        lines.append(f"  {label:<34}not measured: {colour.reason}")
    else:
        verdict = {None: "", True: "  below the input's", False: "  not below the input's"}[colour.below_input]
        lines.append(f"  {label:<34}{number(colour.output, 2)}{number(colour.input, 2)}{'':>10}{verdict}")
    label = "edge correlation with input"
    if isinstance(edges, NotMeasured):
        lines.append(f"  {label:<34}not measured: {edges.reason}")
    else:
        lines.append(f"  {label:<34}{number(edges.mean, 3)}")
    lines.append("  lower = closer to the paintings, except edge correlation: 1 = the input's edges kept")
    return lines


def format_style(report) -> str:
    """The ``vidgan eval style`` table for a :class:`~vidgan.eval.style.StyleReport`."""
    s = report.settings
    levels = len(report.output.per_level)
    lines = [
        f"Style distance: sliced Wasserstein distance of {s.patch_size}x{s.patch_size} Laplacian-pyramid patches "
        f"(Karras et al. 2018), normalised by the paintings' statistics; lower = closer to the paintings",
        f"  paintings  {report.paintings_path}  ({report.paintings} images)",
        f"  output     {report.output_path}  ({report.output.images} frames)",
    ]
    if report.input is not None:
        lines.append(f"  input      {report.input_path}  ({report.input.images} frames)")
    header = "".join(f"{f'level {i}':>10}" for i in range(levels))
    lines += ["", f"  {'SWD':<10}{header}{'mean':>10}"]
    rows = [("output", report.output)] + ([("input", report.input)] if report.input is not None else [])
    for label, distance in rows:
        values = "".join(f"{v:>10.4f}" for v in distance.per_level)
        lines.append(f"  {label:<10}{values}{distance.mean:>10.4f}")
    if report.ratio is not None:
        verdict = "moved toward" if report.ratio < 1 else "did not move toward"
        lines += ["", f"  ratio output/input: {report.ratio:.3f} (the output {verdict} the paintings' patch statistics)"]
    lines += _look_rows(report)
    lines += ["", f"level 0 is the finest band, level {levels - 1} the low-pass residual (colour); "
                  f"{s.patches_per_image} patches per image and level, {s.repeats}x{s.directions} projections, "
                  f"seed {s.seed}"]
    return "\n".join(lines)


def _style_names(values: list[str]) -> list[str] | None:
    """``--styles`` values, split at commas; ``all`` (or nothing) is every installed style (None)."""
    names = [name for value in values for name in value.split(",") if name]
    return None if not names or names == ["all"] else names


def _run_style_table(args: argparse.Namespace) -> int:
    from vidgan.engine import resolve_device
    from vidgan.eval.style import SwdSettings
    from vidgan.eval.style_table import format_style_table, style_table

    if args.input is not None:
        raise EvalInputError("eval style --styles takes PAINTINGS INPUT only: the stylized outputs are made here")
    rows = style_table(args.paintings, args.output, _style_names(args.styles), args.preset or "both",
                       settings=SwdSettings(max_frames=args.frames, seed=args.seed), loss_net=args.loss_net,
                       device=resolve_device(args.device or "auto"), motion=args.motion or "auto")
    print(json.dumps([row.to_dict() for row in rows]) if args.json else format_style_table(rows))
    return 0


def _run_style(args: argparse.Namespace) -> int:
    from vidgan.eval.style import SwdSettings, style_distance

    if args.styles is not None:
        return _run_style_table(args)
    extra = [f"--{name}" for name in ("preset", "motion", "device") if getattr(args, name) is not None]
    if extra:
        raise EvalInputError(f"eval style: {', '.join(extra)} only apply with --styles")
    report = style_distance(args.paintings, args.output, args.input,
                            settings=SwdSettings(max_frames=args.frames, seed=args.seed), loss_net=args.loss_net)
    print(json.dumps(report.to_dict()) if args.json else format_style(report))
    return 0


EVAL_METRICS.add("style", Subcommand(
    help="style distance (multi-scale SWD) of a stylized video to a folder of paintings",
    description="Multi-scale sliced Wasserstein distance (Karras et al. 2018) between 7x7 Laplacian-pyramid "
                "patches of OUT and of the PAINTINGS; with INPUT also SWD(INPUT) and the ratio OUT/INPUT. "
                "Beside it: the perceptual style distance (Gram matrices of VGG19 features on a 3-level "
                "pyramid, with --loss-net), the Lab colour distance to the paintings, and with INPUT the "
                "edge correlation of OUT with INPUT. With --styles: PAINTINGS INPUT, each style model run "
                "on INPUT and scored against PAINTINGS/NAME, one table of all of them.",
    add_arguments=_style_arguments,
    run=_run_style,
))


# -- vidgan eval interp -------------------------------------------------------------------------
def _interp_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", metavar="DIR", help="one folder per sequence: frame0/1/2.png (1 = ground truth) "
                                                    "or frame10.png, frame11.png and frame10i11.png")
    parser.add_argument("--model", default="dis", metavar="NAMES",
                        help="interpolation model, or several separated by commas to score side by side in one "
                             "run (e.g. dis,refine,minterpolate: 'minterpolate' is the ffmpeg CLI's filter); "
                             "default dis")
    parser.add_argument("--scale", type=_positive_int, default=None, metavar="PX",
                        help="short side motion is estimated at (default: each model's own; dis 360, refine 180)")
    parser.add_argument("--save-dir", metavar="OUT", help="write each interpolated frame as OUT/<seq>.png "
                                                          "(OUT/<model>/<seq>.png with several models)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")


def format_interp(report) -> str:
    """The ``vidgan eval interp`` table for a :class:`~vidgan.eval.interp.InterpReport`."""
    width = max(12, *(len(s.name) for s in report.scores))
    lines = [f"Frame interpolation, model {report.model!r}, on {report.data}: PSNR (RGB uint8, whole image), "
             "SSIM (scikit-image defaults: 7x7 uniform window, RGB mean)", "",
             f"  {'sequence':<{width}}{'PSNR dB':>10}{'SSIM':>9}{'ms':>9}"]
    for s in report.scores:
        lines.append(f"  {s.name:<{width}}{s.psnr:>10.2f}{s.ssim:>9.4f}{s.ms:>9.1f}")
    lines.append(f"  {'mean':<{width}}{report.mean_psnr:>10.2f}{report.mean_ssim:>9.4f}{report.mean_ms:>9.1f}")
    return "\n".join(lines)


def format_interp_side_by_side(reports) -> str:
    """Several models' reports on one data folder as one table: PSNR and SSIM per model, per sequence."""
    width = max(12, *(len(s.name) for s in reports[0].scores))
    column = max(15, *(len(r.model) + 5 for r in reports))
    lines = [f"Frame interpolation on {reports[0].data}: PSNR dB / SSIM per model (PSNR over RGB uint8, whole "
             "image; SSIM as scikit-image's defaults)", "",
             f"  {'sequence':<{width}}" + "".join(f"{r.model:>{column}}" for r in reports)]
    for index, score in enumerate(reports[0].scores):
        cells = (f"{r.scores[index].psnr:.2f} / {r.scores[index].ssim:.4f}" for r in reports)
        lines.append(f"  {score.name:<{width}}" + "".join(f"{c:>{column}}" for c in cells))
    means = (f"{r.mean_psnr:.2f} / {r.mean_ssim:.4f}" for r in reports)
    lines.append(f"  {'mean':<{width}}" + "".join(f"{c:>{column}}" for c in means))
    lines.append(f"  {'ms per frame':<{width}}" + "".join(f"{r.mean_ms:>{column}.1f}" for r in reports))
    return "\n".join(lines)


def _run_interp(args: argparse.Namespace) -> int:
    from vidgan.eval.interp import evaluate

    models = [m.strip() for m in args.model.split(",") if m.strip()]
    if not models:
        raise EvalInputError("--model names no model")
    if len(models) != len(set(models)):
        raise EvalInputError(f"--model names a model twice: {args.model}")
    reports = []
    for model in models:
        save_dir = args.save_dir if args.save_dir is None or len(models) == 1 else str(Path(args.save_dir) / Path(model).stem)
        reports.append(evaluate(args.data, model, save_dir=save_dir, scale=args.scale))
    if args.json:
        print(json.dumps(reports[0].to_dict() if len(reports) == 1 else
                         {"metric": "interp", "data": args.data, "reports": [r.to_dict() for r in reports]}))
    else:
        print(format_interp(reports[0]) if len(reports) == 1 else format_interp_side_by_side(reports))
    return 0


EVAL_METRICS.add("interp", Subcommand(
    help="frame interpolation PSNR/SSIM/ms on triplet folders",
    description="Interpolates the middle frame of each sequence folder in DIR and scores it against the "
                "ground truth: PSNR over RGB uint8, SSIM as scikit-image's defaults, ms per frame.",
    add_arguments=_interp_arguments,
    run=_run_interp,
))
