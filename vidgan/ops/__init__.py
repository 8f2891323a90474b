"""Per-pixel operations on frame tensors, one dispatching function per operation.

Each operation has three implementations, picked by the tensors' device: fused CuPy kernels for
CUDA tensors, fused Numba kernels for CPU tensors, and the plain-torch twin in
:mod:`vidgan.ops.reference`, which is also the autograd path (used whenever an input requires
grad) and the oracle in tests. ``VIDGAN_KERNELS=torch`` forces the twin everywhere.

Convention:
    images (N, C, H, W); flows (N, 2, H, W) in pixels (channel 0 = dx, 1 = dy); confidences and
    masks (N, 1, H, W). float32 everywhere, float16 too on CUDA. All inputs of one call share a
    device and dtype and are contiguous. See :mod:`vidgan.ops.reference` for the exact maths.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import cache
from typing import Literal

import torch

from vidgan.ops import color, reference

log = logging.getLogger("vidgan")

Backend = Literal["cupy", "numba", "torch"]
Border = reference.Border

__all__ = [
    "active_backend",
    "consistency",
    "rgb_to_yuv420",
    "splat_flow",
    "temporal_blend",
    "warp",
    "yuv_to_rgb",
]


@cache
def _numba_kernels():
    try:
        from vidgan.kernels import cpu
    except ImportError as exc:  # numba missing or broken: say so once, use the torch twin
        log.warning("Numba kernels unavailable (%s); using the torch reference on CPU", exc)
        return None
    return cpu


@cache
def _cupy_kernels():
    try:
        from vidgan.kernels import cuda
    except ImportError as exc:
        log.warning("CuPy kernels unavailable (%s); using the torch reference on CUDA", exc)
        return None
    return cuda


def active_backend(device: torch.device | str) -> Backend:
    """The backend a call with tensors on ``device`` uses (no grad involved)."""
    if os.environ.get("VIDGAN_KERNELS", "").lower() == "torch":
        return "torch"
    device = torch.device(device)
    if device.type == "cuda":
        return "cupy" if _cupy_kernels() is not None else "torch"
    if device.type == "cpu":
        return "numba" if _numba_kernels() is not None else "torch"
    return "torch"


def _check(name: str, tensors: dict[str, torch.Tensor], channels: dict[str, int | None]) -> torch.Tensor:
    """Validate layouts, dtypes, devices and contiguity; returns the first tensor for reference."""
    first_name, first = next(iter(tensors.items()))
    for key, tensor in tensors.items():
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"{name}: {key} must be a torch.Tensor, got {type(tensor).__name__}")
        if tensor.ndim != 4:
            raise ValueError(f"{name}: {key} must be (N, C, H, W); got shape {tuple(tensor.shape)}")
        want = channels.get(key)
        if want is not None and tensor.shape[1] != want:
            raise ValueError(f"{name}: {key} must have {want} channel(s); got shape {tuple(tensor.shape)}")
        if tensor.device != first.device:
            raise ValueError(f"{name}: {key} is on {tensor.device} but {first_name} is on {first.device}")
        if tensor.dtype != first.dtype:
            raise TypeError(f"{name}: {key} is {tensor.dtype} but {first_name} is {first.dtype}")
        if (tensor.shape[0], *tensor.shape[2:]) != (first.shape[0], *first.shape[2:]):
            raise ValueError(
                f"{name}: {key} has shape {tuple(tensor.shape)}, which does not match {first_name} "
                f"{tuple(first.shape)} in N, H or W"
            )
        if not tensor.is_contiguous():
            raise ValueError(f"{name}: {key} must be contiguous (NCHW); call .contiguous() first")
    allowed = (torch.float32, torch.float16) if first.device.type == "cuda" else (torch.float32,)
    if first.dtype not in allowed:
        names = ", ".join(str(d).replace("torch.", "") for d in allowed)
        raise TypeError(f"{name}: {first.dtype} is not supported on {first.device.type}; use {names}")
    return first


def _route(tensors: dict[str, torch.Tensor]) -> Backend:
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors.values()):
        return "torch"
    return active_backend(next(iter(tensors.values())).device)


def _kernels(backend: Backend):
    return _cupy_kernels() if backend == "cupy" else _numba_kernels()


def warp(image: torch.Tensor, flow: torch.Tensor, *, border: Border = "zeros") -> tuple[torch.Tensor, torch.Tensor]:
    """Backward bilinear warp by a pixel flow; returns (warped image, valid-sample mask)."""
    if border not in ("zeros", "edge"):
        raise ValueError(f"warp: border must be 'zeros' or 'edge'; got {border!r}")
    tensors = {"image": image, "flow": flow}
    _check("warp", tensors, {"flow": 2})
    backend = _route(tensors)
    if backend == "torch":
        return reference.warp(image, flow, border=border)
    return _kernels(backend).warp(image, flow, border=border)


def consistency(flow_fw: torch.Tensor, flow_bw: torch.Tensor) -> torch.Tensor:
    """Soft confidence (N,1,H,W) in [0, 1] of ``flow_fw`` from the forward-backward and motion-boundary tests."""
    tensors = {"flow_fw": flow_fw, "flow_bw": flow_bw}
    _check("consistency", tensors, {"flow_fw": 2, "flow_bw": 2})
    backend = _route(tensors)
    if backend == "torch":
        return reference.consistency(flow_fw, flow_bw)
    return _kernels(backend).consistency(flow_fw, flow_bw)


def temporal_blend(
    current: torch.Tensor,
    previous_output: torch.Tensor,
    flow: torch.Tensor,
    confidence: torch.Tensor,
    alpha: float,
) -> torch.Tensor:
    """Blend the previous output, warped to now, into the current frame where the warp is trusted."""
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"temporal_blend: alpha must be in [0, 1]; got {alpha}")
    tensors = {"current": current, "previous_output": previous_output, "flow": flow, "confidence": confidence}
    _check("temporal_blend", tensors, {"previous_output": current.shape[1] if current.ndim == 4 else None,
                                       "flow": 2, "confidence": 1})
    backend = _route(tensors)
    if backend == "torch":
        return reference.temporal_blend(current, previous_output, flow, confidence, alpha)
    return _kernels(backend).temporal_blend(current, previous_output, flow, confidence, float(alpha))


def splat_flow(flow_0to1: torch.Tensor, t: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Flow from time ``t`` to frame 0 by forward splatting; returns (flow, coverage)."""
    if not 0.0 <= float(t) <= 1.0:
        raise ValueError(f"splat_flow: t must be in [0, 1]; got {t}")
    tensors = {"flow_0to1": flow_0to1}
    _check("splat_flow", tensors, {"flow_0to1": 2})
    backend = _route(tensors)
    if backend == "torch":
        return reference.splat_flow(flow_0to1, float(t))
    return _kernels(backend).splat_flow(flow_0to1, float(t))


def yuv_to_rgb(
    y: torch.Tensor, u: torch.Tensor, v: torch.Tensor, *, matrix: int = 1, full_range: bool = False, bits: int = 8
) -> torch.Tensor:
    """Planar Y'CbCr planes -> RGB (3, H, W) float32 in [0, 1]; fused kernel for 8-bit 4:2:0 on CUDA.

    For NV12 pass ``u = uv[:, 0::2]`` and ``v = uv[:, 1::2]`` (views; the kernel reads them in place).
    """
    height, width = y.shape[-2:]
    is_420 = u.shape[-2:] == ((height + 1) // 2, (width + 1) // 2) and u.dtype == torch.uint8
    if bits == 8 and is_420 and y.is_cuda and y.dtype == torch.uint8 and active_backend(y.device) == "cupy":
        step = 2 if u.stride(-1) == 2 and v.stride(-1) == 2 else 1
        return _cupy_kernels().yuv420_to_rgb(y, u, v, matrix=matrix, full_range=full_range, uv_step=step)
    if u.stride(-1) != 1:
        u, v = u.contiguous(), v.contiguous()
    return color.yuv_to_rgb(y, u, v, matrix=matrix, full_range=full_range, bits=bits)


def rgb_to_yuv420(
    rgb: torch.Tensor, *, matrix: int = 1, full_range: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """RGB (3, H, W) in [0, 1] -> 8-bit yuv420p planes; fused kernel on CUDA."""
    if (rgb.is_cuda and rgb.dtype in (torch.float32, torch.float16) and rgb.is_contiguous()
            and rgb.shape[-1] % 2 == 0 and rgb.shape[-2] % 2 == 0 and active_backend(rgb.device) == "cupy"):
        return _cupy_kernels().rgb_to_yuv420(rgb, matrix=matrix, full_range=full_range)
    return color.rgb_to_yuv420(rgb, matrix=matrix, full_range=full_range)


OPERATIONS: dict[str, Callable] = {
    "warp": warp,
    "consistency": consistency,
    "temporal_blend": temporal_blend,
    "splat_flow": splat_flow,
}
