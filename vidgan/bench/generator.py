"""Generator benchmark: the stylize generator alone, per architecture and engine.

Why: which generator shape to distil the live preset into depends on what runs fastest on the
engine the CPU uses (OpenVINO's kernels favour other shapes than torch's oneDNN path), at a
similar capacity. Times the presets and a few candidate shapes (not presets: candidates) at one
frame size with torch (fp32, channels-last, as the stage runs it), OpenVINO fp32 and OpenVINO bf16,
round-robin per round so load changes on a shared machine hit all alike; reports the median ms,
the multiply-accumulates and the parameter count. Weights are random: cost does not depend on them.

    python -m vidgan.bench.generator [--size 640x360] [--rounds 20] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from vidgan.bench.stylize import parse_size
from vidgan.bench.timing import cpu_model
from vidgan.models.stylizer import PRESETS, RecurrentStylizer, StylizerConfig, count_macs

#: Candidate live shapes next to the presets: dense 3x3 at small widths (OpenVINO's depthwise
#: kernels are its weakest), and a wider separable one.
CANDIDATES: dict[str, StylizerConfig] = {
    "lite (preset): w24, 5 separable blocks": PRESETS["lite"],
    "w16, 4 dense blocks": StylizerConfig("lite", width=16, blocks=4, separable=False, head="half", padding="zeros"),
    "w20, 4 dense blocks": StylizerConfig("lite", width=20, blocks=4, separable=False, head="half", padding="zeros"),
    "w12, 5 dense blocks": StylizerConfig("lite", width=12, blocks=5, separable=False, head="half", padding="zeros"),
    "w32, 4 separable blocks": StylizerConfig("lite", width=32, blocks=4, separable=True, head="half",
                                              padding="zeros"),
    "full (preset): w40, 8 dense blocks": PRESETS["full"],
}


def engine_calls(model: RecurrentStylizer, cache: Path, threads: int) -> dict[str, Callable[..., torch.Tensor]]:
    """The generator as each engine installed here runs it."""
    from vidgan.models import openvino_generator

    calls: dict[str, Callable[..., torch.Tensor]] = {
        "torch fp32": model.to(memory_format=torch.channels_last)}  # type: ignore[call-overload]
    if openvino_generator.available():
        for label, dtype in (("openvino fp32", torch.float32), ("openvino bf16", torch.bfloat16)):
            calls[label] = openvino_generator.OpenVinoGenerator(model, threads=threads, precision=dtype, cache=cache)
    return calls


def bench(width: int, height: int, rounds: int, threads: int) -> list[dict]:
    inputs = (torch.rand(1, 3, height, width), torch.rand(1, 3, height, width), torch.rand(1, 1, height, width))
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as cache, torch.no_grad():
        runs: list[tuple[str, StylizerConfig, RecurrentStylizer, dict[str, Callable[..., torch.Tensor]],
                         dict[str, list[float]]]] = []
        for name, config in CANDIDATES.items():
            torch.manual_seed(0)
            model = RecurrentStylizer(config).eval()
            calls = engine_calls(model, Path(cache), threads)
            for call in calls.values():
                call(*inputs)  # OpenVINO converts and compiles here
            runs.append((name, config, model, calls, {label: [] for label in calls}))
        for _ in range(rounds):
            for _, _, _, calls, samples in runs:
                for label, call in calls.items():
                    started = time.perf_counter()
                    call(*inputs)
                    samples[label].append(time.perf_counter() - started)
        for name, config, model, _, samples in runs:
            rows.append({"shape": name, "config": dataclasses.asdict(config), "gmacs": count_macs(model, height, width) / 1e9,
                         "params": sum(p.numel() for p in model.parameters()),
                         "ms": {label: statistics.median(s) * 1e3 for label, s in samples.items()}})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=(640, 360), help="WxH (default 640x360)")
    parser.add_argument("--rounds", type=int, default=20, help="timed calls per shape and engine")
    parser.add_argument("--threads", type=int, help="torch's and OpenVINO's thread count (default torch's)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    width, height = args.size
    rows = bench(width, height, max(1, args.rounds), threads)
    if args.json:
        print(json.dumps({"cpu": cpu_model(), "threads": threads, "size": f"{width}x{height}", "rows": rows}, indent=2))
        return 0
    labels = list(rows[0]["ms"])
    print(f"{cpu_model()}; {threads} threads; {width}x{height}; median of {args.rounds} rounds; torch {torch.__version__}")
    print("| shape | GMACs | params | " + " | ".join(f"{label} ms" for label in labels) + " |")
    print("|---|---|---|" + "---|" * len(labels))
    for r in rows:
        times = " | ".join(f"{r['ms'][label]:.1f}" for label in labels)
        print(f"| {r['shape']} | {r['gmacs']:.2f} | {r['params'] / 1e3:.0f}k | {times} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
