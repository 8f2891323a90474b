"""Interpolation benchmark: ms per synthesised frame of each model, next to FFmpeg's minterpolate.

Why: to know what 2x interpolation costs per frame at a given size, and how that compares with
the interpolator everyone already has (FFmpeg's motion-compensated ``minterpolate``), measured in
the same run on the same clip. The clip is made here: a smooth random texture panning 5 px right
and 2 px down per frame. Rows: each model's ``prepare`` (motion of a pair) plus ``synthesize``
(t = 0.5), median over the frames after 3 warm-up pairs; and the ``ffmpeg`` CLI doubling the same
clip with ``minterpolate`` (:data:`vidgan.eval.minterpolate.MINTERPOLATE_OPTIONS`), its wall time
divided by the frames it adds (decode and encode of the small raw clip included, so slightly
favourable to neither).

    python -m vidgan.bench.interpolate [--size 640x360 ...] [--frames 30] [--models dis] [--no-ffmpeg] [--json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from vidgan.bench.timing import cpu_model
from vidgan.errors import VidganError
from vidgan.eval.minterpolate import minterpolate_filter
from vidgan.models.interp import get_interpolator, interpolator_names

WARMUP = 3
STEP = (5, 2)


def make_clip(width: int, height: int, frames: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    import cv2

    pad_x, pad_y = STEP[0] * frames + 8, STEP[1] * frames + 8
    big = cv2.GaussianBlur(rng.random((height + pad_y, width + pad_x, 3)).astype(np.float32), (0, 0), 3.0)
    big = ((big - big.min()) / (big.max() - big.min()) * 255).astype(np.uint8)
    return [np.ascontiguousarray(big[i * STEP[1]:i * STEP[1] + height, i * STEP[0]:i * STEP[0] + width])
            for i in range(frames)]


def bench_model(name: str, clip: list[np.ndarray]) -> list[float]:
    model = get_interpolator(name)
    tensors = [torch.from_numpy(f).permute(2, 0, 1)[None].float().div_(255) for f in clip]
    seconds = []
    with torch.no_grad():
        for index, (a, b) in enumerate(zip(tensors, tensors[1:])):
            started = time.perf_counter()
            model.synthesize(model.prepare(a, b), 0.5)
            if index >= WARMUP:
                seconds.append(time.perf_counter() - started)
    return seconds


def bench_minterpolate(clip: list[np.ndarray], tmp: Path) -> float | None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None
    height, width = clip[0].shape[:2]
    raw = tmp / "clip.rgb"
    raw.write_bytes(b"".join(f.tobytes() for f in clip))
    command = [ffmpeg, "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
               "-r", "25", "-i", str(raw), "-vf",
               minterpolate_filter(50),
               "-f", "rawvideo", "-pix_fmt", "rgb24", str(tmp / "out.rgb")]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return (time.perf_counter() - started) / (len(clip) - 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", action="append", help="WxH, repeatable (default 640x360)")
    parser.add_argument("--frames", type=int, default=30, help="frames of the clip (pairs: frames - 1)")
    parser.add_argument("--models", default=",".join(interpolator_names()), help="comma-separated model names")
    parser.add_argument("--no-ffmpeg", action="store_true", help="skip the minterpolate reference")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    if args.frames < WARMUP + 2:
        parser.error(f"--frames must be at least {WARMUP + 2}")
    rows: list[dict] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        for size in args.size or ["640x360"]:
            width, height = (int(v) for v in size.lower().split("x"))
            clip = make_clip(width, height, args.frames)
            for name in args.models.split(","):
                try:
                    seconds = bench_model(name, clip)
                except VidganError as exc:  # a learned model without installed weights
                    skipped.append(f"{name}: {exc}")
                    continue
                label = Path(name).stem if name.endswith(".safetensors") else name
                rows.append({"size": size, "row": f"vidgan {label} (prepare + synthesize t=0.5)",
                             "median_ms": 1e3 * statistics.median(seconds)})
            if not args.no_ffmpeg:
                per_frame = bench_minterpolate(clip, Path(folder))
                if per_frame is not None:
                    rows.append({"size": size, "row": "ffmpeg minterpolate (mci, aobmc, bidir), whole CLI",
                                 "median_ms": 1e3 * per_frame})
    machine = {"date": datetime.datetime.now().isoformat(timespec="minutes"), "cpu": cpu_model(),
               "torch": torch.__version__, "torch_threads": torch.get_num_threads()}
    if args.json:
        print(json.dumps({"machine": machine, "rows": rows, "skipped": sorted(set(skipped))}, indent=2))
        return 0
    print(f"{machine['date']}; {machine['cpu']}; torch {machine['torch']} ({machine['torch_threads']} threads)")
    print(f"clip: synthetic texture panning {STEP[0]},{STEP[1]} px/frame, {args.frames} frames, {WARMUP} warm-up pairs")
    print(f"{'size':>10}  {'row':52} {'ms/frame':>9} {'frames/s':>9}")
    for r in rows:
        print(f"{r['size']:>10}  {r['row']:52} {r['median_ms']:9.1f} {1e3 / r['median_ms']:9.1f}")
    for reason in sorted(set(skipped)):
        print(f"skipped {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
