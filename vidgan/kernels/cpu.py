"""Fused Numba kernels for CPU tensors: one pass over memory per operation.

Each public function takes torch tensors (validated by :mod:`vidgan.ops`), works on zero-copy
numpy views of them, and matches its twin in :mod:`vidgan.ops.reference` to float32 rounding.

fastmath is on, except the "no NaN / no Inf" assumptions, and finiteness is tested with plain
comparisons (:func:`_finite`): under fastmath, ``math.isfinite`` was seen to answer True for inf.
"""

from __future__ import annotations

import math
import os
from typing import TypedDict

import numba
import numpy as np
import torch
from numba import njit, prange

from vidgan.ops.kernel_table import register_kernel
from vidgan.ops.reference import MB_BIAS, MB_RATIO, OCC_BIAS, OCC_RATIO

_FAST = {"nsz", "arcp", "contract", "afn", "reassoc"}

# OpenMP first, as Numba picked before OpenVINO (the CPU stylize engine) brought a loadable TBB into
# the process: Numba would take TBB then, whose fork handler warns on every fork from a thread, and
# the thread-count notes in docs/benchmarks.md were measured with OpenMP. A user's setting wins.
if "NUMBA_THREADING_LAYER_PRIORITY" not in os.environ:
    numba.config.THREADING_LAYER_PRIORITY = ["omp", "tbb", "workqueue"]  # type: ignore[attr-defined]


class _JitOptions(TypedDict):
    """The ``njit`` settings every public kernel shares."""

    parallel: bool
    fastmath: set[str]
    cache: bool
    nogil: bool


_JIT: _JitOptions = {"parallel": True, "fastmath": _FAST, "cache": True, "nogil": True}


def _view(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().numpy()


def _empty(shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
    """Every output is allocated here (tests poison it to catch pixels a kernel never writes)."""
    return torch.empty(shape, dtype=like.dtype, device=like.device)


@njit(inline="always")
def _finite(value):
    """False for NaN and +-inf: NaN fails both comparisons, inf fails one."""
    return value > -3.0e38 and value < 3.0e38


@njit(inline="always")
def _interior(sx, sy, height, width):
    """All four taps inside the image (False for NaN): the branch-free fast path applies."""
    return sx >= 0.0 and sy >= 0.0 and sx < width - 1.0 and sy < height - 1.0


@njit(inline="always", fastmath=_FAST)
def _taps(sx, sy, height, width, edge):
    """Bilinear taps at (sx, sy): four (weight, index) pairs, weight 0 for taps outside the image."""
    if edge:
        sx = min(max(sx, 0.0), width - 1.0)
        sy = min(max(sy, 0.0), height - 1.0)
    x0f = math.floor(sx)
    y0f = math.floor(sy)
    fx = sx - x0f
    fy = sy - y0f
    x0 = int(x0f)
    y0 = int(y0f)
    in_x0 = x0 >= 0 and x0 < width
    in_x1 = x0 + 1 >= 0 and x0 + 1 < width and fx > 0.0
    in_y0 = y0 >= 0 and y0 < height
    in_y1 = y0 + 1 >= 0 and y0 + 1 < height and fy > 0.0
    w00 = (1.0 - fx) * (1.0 - fy) if in_x0 and in_y0 else 0.0
    w01 = fx * (1.0 - fy) if in_x1 and in_y0 else 0.0
    w10 = (1.0 - fx) * fy if in_x0 and in_y1 else 0.0
    w11 = fx * fy if in_x1 and in_y1 else 0.0
    xa = min(max(x0, 0), width - 1)
    xb = min(max(x0 + 1, 0), width - 1)
    ya = min(max(y0, 0), height - 1)
    yb = min(max(y0 + 1, 0), height - 1)
    return w00, w01, w10, w11, xa, xb, ya, yb


@njit(**_JIT)
def _warp_kernel(image, flow, edge, out, mask):
    batch, channels, height, width = image.shape
    for row in prange(batch * height):
        n = row // height
        y = row % height
        for x in range(width):
            sx = x + flow[n, 0, y, x]
            sy = y + flow[n, 1, y, x]
            if _interior(sx, sy, height, width):
                x0 = int(sx)  # sx >= 0, so truncation is floor
                y0 = int(sy)
                fx = np.float32(sx - x0)  # coordinates in float64, weights in float32
                fy = np.float32(sy - y0)
                gx = np.float32(1.0) - fx
                gy = np.float32(1.0) - fy
                mask[n, 0, y, x] = 1.0
                for c in range(channels):
                    out[n, c, y, x] = (gy * (gx * image[n, c, y0, x0] + fx * image[n, c, y0, x0 + 1])
                                       + fy * (gx * image[n, c, y0 + 1, x0] + fx * image[n, c, y0 + 1, x0 + 1]))
                continue
            if not (_finite(sx) and _finite(sy)):
                for c in range(channels):
                    out[n, c, y, x] = 0.0
                mask[n, 0, y, x] = 0.0
                continue
            inside = sx >= 0.0 and sx <= width - 1.0 and sy >= 0.0 and sy <= height - 1.0
            mask[n, 0, y, x] = 1.0 if inside else 0.0
            w00, w01, w10, w11, xa, xb, ya, yb = _taps(sx, sy, height, width, edge)
            for c in range(channels):
                out[n, c, y, x] = (w00 * image[n, c, ya, xa] + w01 * image[n, c, ya, xb]
                                   + w10 * image[n, c, yb, xa] + w11 * image[n, c, yb, xb])


@register_kernel("warp", "numba")
def warp(image: torch.Tensor, flow: torch.Tensor, *, border: str = "zeros") -> tuple[torch.Tensor, torch.Tensor]:
    out = _empty(tuple(image.shape), image)
    mask = _empty((image.shape[0], 1, *image.shape[2:]), image)
    _warp_kernel(_view(image), _view(flow), border == "edge", _view(out), _view(mask))
    return out, mask


@njit(inline="always", fastmath=_FAST)
def _soft(ratio):
    return min(max(1.5 - ratio, 0.0), 1.0)


@njit(inline="always", fastmath=_FAST)
def _diff(flow, n, c, y, x, height, width, axis):
    """Central difference of flow channel c along x (axis 0) or y (axis 1); one-sided at borders."""
    if axis == 0:
        if width == 1:
            return 0.0
        lo = max(x - 1, 0)
        hi = min(x + 1, width - 1)
        return (flow[n, c, y, hi] - flow[n, c, y, lo]) / (hi - lo)
    if height == 1:
        return 0.0
    lo = max(y - 1, 0)
    hi = min(y + 1, height - 1)
    return (flow[n, c, hi, x] - flow[n, c, lo, x]) / (hi - lo)


@njit(**_JIT)
def _consistency_kernel(flow_fw, flow_bw, out):
    batch, _, height, width = flow_fw.shape
    for row in prange(batch * height):
        n = row // height
        y = row % height
        for x in range(width):
            u = flow_fw[n, 0, y, x]
            v = flow_fw[n, 1, y, x]
            sx = x + u
            sy = y + v
            if not (_finite(sx) and _finite(sy)):
                out[n, 0, y, x] = 0.0
                continue
            if sx < 0.0 or sx > width - 1.0 or sy < 0.0 or sy > height - 1.0:
                out[n, 0, y, x] = 0.0
                continue
            w00, w01, w10, w11, xa, xb, ya, yb = _taps(sx, sy, height, width, True)
            bu = (w00 * flow_bw[n, 0, ya, xa] + w01 * flow_bw[n, 0, ya, xb]
                  + w10 * flow_bw[n, 0, yb, xa] + w11 * flow_bw[n, 0, yb, xb])
            bv = (w00 * flow_bw[n, 1, ya, xa] + w01 * flow_bw[n, 1, ya, xb]
                  + w10 * flow_bw[n, 1, yb, xa] + w11 * flow_bw[n, 1, yb, xb])
            fw_sq = u * u + v * v
            mismatch = (u + bu) * (u + bu) + (v + bv) * (v + bv)
            occ = _soft(mismatch / (OCC_RATIO * (fw_sq + bu * bu + bv * bv) + OCC_BIAS))
            grad = 0.0
            for c in range(2):
                gx = _diff(flow_fw, n, c, y, x, height, width, 0)
                gy = _diff(flow_fw, n, c, y, x, height, width, 1)
                grad += gx * gx + gy * gy
            boundary = _soft(grad / (MB_RATIO * fw_sq + MB_BIAS))
            value = occ * boundary
            out[n, 0, y, x] = value if _finite(value) else 0.0


@register_kernel("consistency", "numba")
def consistency(flow_fw: torch.Tensor, flow_bw: torch.Tensor) -> torch.Tensor:
    out = _empty((flow_fw.shape[0], 1, *flow_fw.shape[2:]), flow_fw)
    _consistency_kernel(_view(flow_fw), _view(flow_bw), _view(out))
    return out


@njit(inline="always", fastmath=_FAST)
def _lerp(start, end, weight):
    """torch.lerp's formula: exact at both ends, and the stylizer's blend bit for bit."""
    diff = end - start
    if weight < 0.5:
        return start + weight * diff
    return end - diff * (np.float32(1.0) - weight)


@njit(**_JIT)
def _blend_kernel(current, previous, flow, confidence, alpha, out):
    batch, channels, height, width = current.shape
    for row in prange(batch * height):
        n = row // height
        y = row % height
        for x in range(width):
            sx = x + flow[n, 0, y, x]
            sy = y + flow[n, 1, y, x]
            weight = np.float32(0.0)
            if _interior(sx, sy, height, width):  # fast path: no clamping, no bounds checks
                weight = min(max(alpha * confidence[n, 0, y, x], np.float32(0.0)), np.float32(1.0))
                if weight > 0.0:
                    x0 = int(sx)
                    y0 = int(sy)
                    fx = np.float32(sx - x0)
                    fy = np.float32(sy - y0)
                    gx = np.float32(1.0) - fx
                    gy = np.float32(1.0) - fy
                    for c in range(channels):
                        warped = (gy * (gx * previous[n, c, y0, x0] + fx * previous[n, c, y0, x0 + 1])
                                  + fy * (gx * previous[n, c, y0 + 1, x0] + fx * previous[n, c, y0 + 1, x0 + 1]))
                        out[n, c, y, x] = _lerp(current[n, c, y, x], warped, weight)
                    continue
            elif _finite(sx) and _finite(sy) and sx >= 0.0 and sx <= width - 1.0 and sy >= 0.0 and sy <= height - 1.0:
                weight = min(max(alpha * confidence[n, 0, y, x], np.float32(0.0)), np.float32(1.0))
            if weight == 0.0:
                for c in range(channels):
                    out[n, c, y, x] = current[n, c, y, x]
                continue
            w00, w01, w10, w11, xa, xb, ya, yb = _taps(sx, sy, height, width, True)
            for c in range(channels):
                warped = (w00 * previous[n, c, ya, xa] + w01 * previous[n, c, ya, xb]
                          + w10 * previous[n, c, yb, xa] + w11 * previous[n, c, yb, xb])
                out[n, c, y, x] = _lerp(current[n, c, y, x], np.float32(warped), weight)


@register_kernel("temporal_blend", "numba")
def temporal_blend(
    current: torch.Tensor, previous_output: torch.Tensor, flow: torch.Tensor, confidence: torch.Tensor, alpha: float
) -> torch.Tensor:
    out = _empty(tuple(current.shape), current)
    _blend_kernel(_view(current), _view(previous_output), _view(flow), _view(confidence), np.float32(alpha), _view(out))
    return out


@njit(fastmath=_FAST, cache=True, nogil=True)
def _splat_kernel(flow, t, accum):
    """Serial on purpose: splatting scatters, and parallel scatters would race."""
    batch, _, height, width = flow.shape
    for n in range(batch):
        for y in range(height):
            for x in range(width):
                u = flow[n, 0, y, x]
                v = flow[n, 1, y, x]
                tx = x + t * u
                ty = y + t * v
                if not (_finite(tx) and _finite(ty)):
                    continue
                x0f = math.floor(tx)
                y0f = math.floor(ty)
                fx = tx - x0f
                fy = ty - y0f
                x0 = int(x0f)
                y0 = int(y0f)
                for oy in range(2):
                    yi = y0 + oy
                    wy = fy if oy else 1.0 - fy
                    if yi < 0 or yi >= height or wy <= 0.0:
                        continue
                    for ox in range(2):
                        xi = x0 + ox
                        wx = fx if ox else 1.0 - fx
                        if xi < 0 or xi >= width or wx <= 0.0:
                            continue
                        w = wx * wy
                        accum[n, 0, yi, xi] += -t * u * w
                        accum[n, 1, yi, xi] += -t * v * w
                        accum[n, 2, yi, xi] += w


@njit(**_JIT)
def _normalise_splat(accum, flow_out, coverage):
    batch, _, height, width = accum.shape
    for row in prange(batch * height):
        n = row // height
        y = row % height
        for x in range(width):
            w = accum[n, 2, y, x]
            coverage[n, 0, y, x] = w
            if w > 0.0:
                flow_out[n, 0, y, x] = accum[n, 0, y, x] / w
                flow_out[n, 1, y, x] = accum[n, 1, y, x] / w
            else:
                flow_out[n, 0, y, x] = 0.0
                flow_out[n, 1, y, x] = 0.0


@register_kernel("splat_flow", "numba")
def splat_flow(flow_0to1: torch.Tensor, t: float) -> tuple[torch.Tensor, torch.Tensor]:
    batch, _, height, width = flow_0to1.shape
    accum = np.zeros((batch, 3, height, width), dtype=np.float32)
    _splat_kernel(_view(flow_0to1), np.float32(t), accum)
    flow_out = _empty(tuple(flow_0to1.shape), flow_0to1)
    coverage = _empty((batch, 1, height, width), flow_0to1)
    _normalise_splat(accum, _view(flow_out), _view(coverage))
    return flow_out, coverage
