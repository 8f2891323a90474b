"""Stylize benchmark: per-frame cost of the ``stylize`` stage and of each of its parts.

Why: to see whether the stage keeps up with video on a CPU, which part (generator, motion, warp and
blend) to work on when it does not, and what the recurrence costs over a naive per-frame loop. A
synthetic clip made here (a smooth texture moving 3 px left and 1 px up per frame) is fed frame by
frame; the rows run round-robin per frame, so load changes on a shared machine hit all alike. The
stage itself is timed, built from ``--style`` or, when none is given or found, from an untrained
``build_generator(preset)`` saved to a temp file (same architecture and cost). Reported: median and
90th-percentile ms per frame and fps over N frames after 5 warm-up frames, each engine (torch,
OpenVINO) in its own rows; then decode -> stylize -> encode end to end for lite (live settings) and
full (file default) per engine, next to the naive loop (:mod:`vidgan.bench.end_to_end`).

    python -m vidgan.bench.stylize [--size 640x360 ...] [--frames 60] [--preset lite|full] [--style NAME|PATH]
                            [--device cpu|cuda] [--precision auto|fp32|bf16|fp16] [--threads N]
                            [--no-end-to-end] [--json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import torch
import torch.nn.functional as F

from vidgan import ops
from vidgan.bench.timing import cpu_model, timed
from vidgan.device import Precision
from vidgan.graph.stage import StageContext
from vidgan.models.motion import MotionEstimate, get_motion
from vidgan.models.stylizer import Preset, build_generator
from vidgan.models.zoo import ModelFileError, UnknownStyleError, find_style, load_generator, save_style
from vidgan.stages.stylize import StylizeStage
from vidgan.stages.stylize_engine import ENGINES

WARMUP = 5
STEP = (3, 1)  # px per frame (x, y) of the synthetic motion


def make_texture(width: int, height: int, frames: int) -> torch.Tensor:
    """Smooth blobs (DIS tracks them, no scene cut fires) plus finer detail, for ``frames`` moved windows."""
    gen = torch.Generator().manual_seed(0)
    h, w = height + STEP[1] * frames, width + STEP[0] * frames
    coarse = F.interpolate(torch.rand(1, 3, h // 32 + 2, w // 32 + 2, generator=gen), size=(h, w), mode="bicubic")
    fine = F.interpolate(torch.rand(1, 3, h // 4 + 2, w // 4 + 2, generator=gen), size=(h, w), mode="bilinear")
    return (0.75 * coarse + 0.25 * fine).clamp_(0.0, 1.0)


def clip_frame(texture: torch.Tensor, index: int, width: int, height: int, device: torch.device) -> torch.Tensor:
    """Frame ``index`` of the clip: the window moved by ``index * STEP`` (content moves up-left)."""
    x, y = index * STEP[0], index * STEP[1]
    return texture[..., y:y + height, x:x + width].contiguous().to(device)


def kernel_threads(threads: int | None) -> int | None:
    """Numba's thread count, set to ``threads`` if given. Its OpenMP layer sets the OpenMP thread count
    on every launch, which torch shares: after one ``ops.warp`` torch ran 2 threads, not the 1 asked."""
    try:
        import numba
    except ImportError:
        return None
    if threads:
        # numba.config fills its attributes in at import, out of the type checker's sight
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    return numba.get_num_threads()


def parse_size(text: str) -> tuple[int, int]:
    """``WxH`` -> (W, H), refused by argparse with a clear message otherwise."""
    try:
        width, height = map(int, text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WxH (e.g. 640x360); got {text!r}") from None
    return width, height


def resolve_style(style: str | None, preset: str, device: torch.device, tmp: Path) -> tuple[str, str]:
    """(style argument for the stage, label): the named style or file, else an untrained generator on disk."""
    if style:
        try:
            entry = find_style(style, preset, prefer_full=device.type == "cuda")
            return style, f"style {entry.name!r} ({entry.preset}, {entry.source}: {entry.weights})"
        except (UnknownStyleError, ModelFileError) as exc:
            print(f"note: {exc}; using an untrained generator", file=sys.stderr)
    torch.manual_seed(0)
    card = {"kind": "stylizer", "preset": preset, "training": {"steps": 0}}
    path = save_style(build_generator(preset), card, tmp, f"untrained_{preset}")
    return str(path), f"untrained build_generator({preset!r}): same architecture and cost as a trained {preset} style"


def bench_size(width: int, height: int, style: str, preset: Preset, frames: int, device: torch.device,
               default_threads: int, precision: Precision = "auto") -> tuple[dict[str, list[float]], str]:
    """Seconds per frame of every row at one frame size (warm-up frames dropped), and the processing size."""
    context = StageContext(device=str(device))

    def make(**options: Any) -> StylizeStage:
        return StylizeStage(StylizeStage.Options(style=style, preset=preset, precision=precision, **options), context)

    engines = [name for name, engine in ENGINES.items() if engine.available() and
               (device.type == "cpu" or name == "torch")]
    stages = {engine: make(motion="dis", engine=engine) for engine in engines}
    lives = {engine: make(motion="dis", flow="fast", engine=engine) for engine in engines}
    stage, per_frame = stages["torch"], make(motion="none")
    live_compiled = make(motion="dis", flow="fast", compile=True)
    naive = load_generator(find_style(style, preset, prefer_full=device.type == "cuda"), device)  # fp32, no recurrence
    motions = {flow: get_motion("dis", preset=flow) for flow in ("medium", "fast")}
    state: dict[str, torch.Tensor] = {}  # the motion row's estimate, for the warp row

    def model_only(engine: str) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], float]:
        def row(frame: torch.Tensor, small: torch.Tensor, previous: torch.Tensor) -> float:
            confidence = torch.full_like(small[:, :1], 0.8)
            return timed(lambda: stages[engine]._run_generator(small, previous, confidence), device)
        return row

    def stage_row(stage: StylizeStage) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], float]:
        return lambda frame, *_: timed(lambda: stage.stylize_tensor(frame), device)

    def motion_dis(flow: str) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], float]:
        def row(frame: torch.Tensor, small: torch.Tensor, previous: torch.Tensor) -> float:
            def run() -> None:  # previous was the last call's current: DIS reuses its grayscale, as in the stage
                estimate = motions[flow].estimate(previous, small)
                state["flow"], state["confidence"] = estimate.flow_cur_to_prev, estimate.confidence
            return timed(run, device)
        return row

    def warp_blend(frame: torch.Tensor, small: torch.Tensor, previous: torch.Tensor) -> float:
        estimate = MotionEstimate(state["flow"], state["confidence"])

        def run() -> torch.Tensor:  # as in the stage: the generator's recurrent inputs, then the blend
            stage._warp_previous(previous, estimate)
            return stage._blend_previous(small, previous, estimate)
        return timed(run, device)

    def naive_loop(frame: torch.Tensor, small: torch.Tensor, previous: torch.Tensor) -> float:
        threads = torch.get_num_threads()
        torch.set_num_threads(default_threads)
        seconds = timed(lambda: naive(small), device)
        torch.set_num_threads(threads)
        return seconds

    precision_name = str(stage.dtype).removeprefix("torch.")
    rows: dict[str, Callable[[torch.Tensor, torch.Tensor, torch.Tensor], float]] = {
        **{f"model only, {engine} ({precision_name})": model_only(engine) for engine in engines},
        "motion (dis fast)": motion_dis("fast"),
        "motion (dis medium)": motion_dis("medium"),  # last: the warp row uses the default flow's estimate
        "warp + temporal blend": warp_blend,
        **{f"stage, dis medium (default), {engine}": stage_row(stages[engine]) for engine in engines},
        **{f"stage, dis fast (live), {engine}": stage_row(lives[engine]) for engine in engines},
        "stage, dis fast, compile=1 (torch)": stage_row(live_compiled),
        f"stage, motion=none, {per_frame.engine}": stage_row(per_frame),
        "naive per-frame fp32 loop": naive_loop,
    }
    texture = make_texture(width, height, WARMUP + frames + 1)
    samples: dict[str, list[float]] = {name: [] for name in rows}
    previous = stage._to_processing(clip_frame(texture, 0, width, height, device))  # the processing size
    with torch.no_grad():
        for index in range(1, WARMUP + frames + 1):
            frame = clip_frame(texture, index, width, height, device)
            small = stage._to_processing(frame)
            for name, row in rows.items():
                seconds = row(frame, small, previous)
                if index > WARMUP:
                    samples[name].append(seconds)
            previous = small
    return samples, f"{small.shape[-1]}x{small.shape[-2]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", action="append", type=parse_size, help="WxH, repeatable (default 640x360)")
    parser.add_argument("--frames", type=int, default=60, help="timed frames per size, after 5 warm-up")
    parser.add_argument("--preset", default="lite", choices=["lite", "full"])
    parser.add_argument("--style", help="style name or .safetensors path (default: an untrained generator)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"],
                        help="the stage's precision (auto: bf16 on CPUs with native bf16, fp16 on CUDA)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (the naive row keeps the default)")
    parser.add_argument("--no-end-to-end", action="store_true",
                        help="skip the decode -> stylize -> encode rows (lite live and full, per engine)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    args.frames = max(1, args.frames)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 2
    default_threads = torch.get_num_threads()
    numba_threads = kernel_threads(args.threads)  # first: starting numba's pool resets the OpenMP count
    if args.threads:
        torch.set_num_threads(args.threads)
    results: list[dict] = []
    end_to_end: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        style, label = resolve_style(args.style, args.preset, device, Path(tmp))
        for width, height in args.size or [(640, 360)]:
            samples, processing = bench_size(width, height, style, args.preset, args.frames, device,
                                             default_threads, args.precision)
            for name, seconds in samples.items():
                median = statistics.median(seconds)
                p90 = statistics.quantiles(seconds, n=10)[-1] if len(seconds) > 1 else median
                results.append({"size": f"{width}x{height}", "processing": processing, "row": name,
                                "median_ms": median * 1e3, "p90_ms": p90 * 1e3, "fps": 1 / median})
            if not args.no_end_to_end:
                end_to_end += end_to_end_rows(width, height, WARMUP + args.frames, str(device), Path(tmp))
    # after the runs: the thread counts in effect (numba's launches set OpenMP's count)
    machine = {
        "date": datetime.datetime.now().isoformat(timespec="minutes"),
        "cpu": cpu_model(), "cpu_threads": os.cpu_count(), "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(), "default_threads": default_threads, "opencv": cv2.__version__,
        "kernels": ops.active_backend(device), "numba_threads": numba_threads,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
    }
    if args.json:
        print(json.dumps({"machine": machine, "model": label, "frames": args.frames, "warmup": WARMUP,
                          "rows": results, "end_to_end": end_to_end}, indent=2))
        return 0
    print(f"{machine['date']}; {machine['cpu']} ({machine['cpu_threads']} CPU threads); device {machine['device']}")
    print(f"torch {machine['torch']} ({machine['torch_threads']} threads, default {default_threads}); "
          f"opencv {machine['opencv']}; kernels {machine['kernels']} (numba {numba_threads} threads)")
    print(f"model: {label}")
    print(f"clip: synthetic texture moving {STEP[0]},{STEP[1]} px/frame; median of {args.frames} frames "
          f"after {WARMUP} warm-up, rows round-robin per frame")
    print(f"{'size':>10} {'processing':>10}  {'row':30} {'median ms':>9} {'p90 ms':>7} {'fps':>7}")
    for r in results:
        print(f"{r['size']:>10} {r['processing']:>10}  {r['row']:30} {r['median_ms']:9.2f} "
              f"{r['p90_ms']:7.2f} {r['fps']:7.1f}")
    if end_to_end:
        print("\nend to end, decode -> stylize -> libx264 veryfast encode (vidgan's threads; pipeline warmed), "
              "next to the naive per-frame loop of the same preset and flow with the same decode and encode:")
        print(f"{'size':>10}  {'case':24} {'engine':9} {'ms/frame':>8} {'fps':>6} {'naive ms':>8} {'naive fps':>9}")
        for r in end_to_end:
            ms = f"{r['ms_per_frame']:8.2f} {1e3 / r['ms_per_frame']:6.1f}" if r["ms_per_frame"] else f"{'-':>8} {'-':>6}"
            print(f"{r['size']:>10}  {r['case']:24} {r['engine']:9} {ms} {r['naive_ms']:8.2f} "
                  f"{1e3 / r['naive_ms']:9.1f}  {r['note']}")
    return 0


def end_to_end_rows(width: int, height: int, frames: int, device: str, tmp: Path) -> list[dict]:
    """:func:`vidgan.bench.end_to_end.run_end_to_end` on a generated H.264 clip of this size."""
    from vidgan.bench.end_to_end import run_end_to_end
    from vidgan.bench.overview import make_clip

    clip = tmp / f"clip-{width}x{height}.mp4"
    make_clip(clip, width, height, frames)
    return [{"size": f"{width}x{height}", "case": r.case.label, "preset": r.case.preset, "flow": r.case.flow,
             "engine": r.engine, "ms_per_frame": r.ms_per_frame, "naive_ms": r.naive_ms, "note": r.note}
            for r in run_end_to_end(clip, tmp, device)]


if __name__ == "__main__":
    sys.exit(main())
