"""Kernel benchmark: each fused kernel against its torch twin (and warp against torch.grid_sample).

CPU (Numba): 1280x720 float32 by default. CUDA (CuPy): 1920x1080 in float32 and float16, plus the
achieved bandwidth (bytes read + written / time) as a share of the measured device-to-device copy
bandwidth. Prints a table; the speedup column is measured in this one run.

    python -m vidgan.bench.kernels --device cpu
    python -m vidgan.bench.kernels --device cuda
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from collections.abc import Callable

import torch
import torch.nn.functional as F

from vidgan import ops
from vidgan.bench import timing
from vidgan.ops import reference


def timed(fn: Callable[[], object], device: torch.device, repeat: int) -> float:
    """Median seconds per call, after two warm-up calls (JIT compile, caches)."""
    fn()
    fn()
    return statistics.median(timing.timed(fn, device) for _ in range(repeat))


def timed_pair(a: Callable[[], object], b: Callable[[], object], device: torch.device, repeat: int) -> tuple[float, float]:
    """Medians of ``a`` and ``b`` timed alternately, so load changes on a shared machine hit both alike."""
    for _ in range(2):
        a()
        b()
    samples_a, samples_b = [], []
    for _ in range(repeat):
        samples_a.append(timing.timed(a, device))
        samples_b.append(timing.timed(b, device))
    return statistics.median(samples_a), statistics.median(samples_b)


def copy_bandwidth(device: torch.device) -> float:
    """Bytes per second of a large device-to-device copy (read + write counted)."""
    src = torch.empty(64 * 1024 * 1024, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    seconds = timed(lambda: dst.copy_(src), device, 20)
    return 2 * src.numel() * 4 / seconds


def grid_for(flow: torch.Tensor) -> torch.Tensor:
    _, _, h, w = flow.shape
    ys = torch.arange(h, device=flow.device, dtype=flow.dtype).view(1, h, 1)
    xs = torch.arange(w, device=flow.device, dtype=flow.dtype).view(1, 1, w)
    return torch.stack(((2 * (xs + flow[:, 0]) + 1) / w - 1, (2 * (ys + flow[:, 1]) + 1) / h - 1), dim=-1)


def cases(h: int, w: int, dtype: torch.dtype, device: torch.device):
    gen = torch.Generator(device="cpu").manual_seed(0)
    image = torch.rand(1, 3, h, w, generator=gen).to(device, dtype)
    previous = torch.rand(1, 3, h, w, generator=gen).to(device, dtype)
    flow = (torch.randn(1, 2, h, w, generator=gen) * 3).to(device, dtype)
    back = (-flow.float() + 0.1 * torch.randn(1, 2, h, w, generator=gen).to(device)).to(dtype)
    confidence = torch.rand(1, 1, h, w, generator=gen).to(device, dtype)
    grid = grid_for(flow.float()).to(dtype)
    size = torch.finfo(dtype).bits // 8
    pixels = h * w
    # name, fused call, reference call, reference label, bytes moved by the fused kernel
    yield ("warp", lambda: ops.warp(image, flow), lambda: F.grid_sample(image, grid, align_corners=False),
           "torch.grid_sample", (3 + 2 + 3 + 1) * pixels * size)
    yield ("warp (full twin)", lambda: ops.warp(image, flow), lambda: reference.warp(image, flow),
           "reference.warp", (3 + 2 + 3 + 1) * pixels * size)
    yield ("consistency", lambda: ops.consistency(flow, back), lambda: reference.consistency(flow, back),
           "reference", (2 + 2 + 1) * pixels * size)
    yield ("temporal_blend", lambda: ops.temporal_blend(image, previous, flow, confidence, 0.8),
           lambda: reference.temporal_blend(image, previous, flow, confidence, 0.8), "reference",
           (3 + 3 + 2 + 1 + 3) * pixels * size)
    if dtype == torch.float32:
        yield ("splat_flow", lambda: ops.splat_flow(flow, 0.5), lambda: reference.splat_flow(flow, 0.5),
               "reference", (2 + 3 * 2 + 3) * pixels * size)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--size", default=None, help="WxH (default 1280x720 on cpu, 1920x1080 on cuda)")
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 2
    w, h = map(int, (args.size or ("1920x1080" if device.type == "cuda" else "1280x720")).split("x"))
    repeat = args.repeat or (50 if device.type == "cuda" else 10)
    dtypes = [torch.float32, torch.float16] if device.type == "cuda" else [torch.float32]
    backend = ops.active_backend(device)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        bandwidth = copy_bandwidth(device)
        print(f"machine: {name}; torch {torch.__version__}; copy bandwidth {bandwidth / 1e9:.0f} GB/s")
    else:
        bandwidth = None
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPU threads; torch {torch.__version__} "
              f"({torch.get_num_threads()} threads)")
    print(f"kernels: {backend}; {w}x{h}, N=1, C=3; median of {repeat}, fused and reference timed alternately")
    header = f"{'op':18} {'dtype':8} {'fused ms':>9} {'reference':>18} {'ref ms':>8} {'speedup':>8}"
    print(header + (f" {'GB/s':>7} {'% copy':>7}" if bandwidth else ""))
    for dtype in dtypes:
        for name, fused, ref, ref_label, moved in cases(h, w, dtype, device):
            fused_s, ref_s = timed_pair(fused, ref, device, max(3, repeat // 3) if "splat" in name else repeat)
            line = (f"{name:18} {str(dtype).replace('torch.', ''):8} {fused_s * 1e3:9.2f} {ref_label:>18} "
                    f"{ref_s * 1e3:8.2f} {ref_s / fused_s:7.1f}x")
            if bandwidth:
                achieved = moved / fused_s
                line += f" {achieved / 1e9:7.0f} {100 * achieved / bandwidth:6.0f}%"
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
