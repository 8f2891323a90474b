"""Per-pixel operations on frame tensors, one dispatching function per operation.

Each function validates its inputs and calls the kernel :data:`KERNELS` holds for the tensors'
device (:mod:`vidgan.ops.kernel_table`): fused CuPy kernels for CUDA tensors, fused Numba kernels
for CPU tensors, and the plain-torch twin (:mod:`vidgan.ops.reference`, :mod:`vidgan.ops.color`),
which is also the autograd path (used whenever an input requires grad) and the oracle in tests.
``VIDGAN_KERNELS=torch`` forces the twin everywhere.

Convention:
    images (N, C, H, W); flows (N, 2, H, W) in pixels (channel 0 = dx, 1 = dy); confidences and
    masks (N, 1, H, W). float32 everywhere, float16 too on CUDA. All inputs of one call share a
    device and dtype and are contiguous. See :mod:`vidgan.ops.reference` for the exact maths.
"""

from __future__ import annotations

import torch

from vidgan.ops import reference
from vidgan.ops.kernel_table import KERNELS, Backend, active_backend, kernel_for, register_kernel

Border = reference.Border

__all__ = [
    "KERNELS",
    "Backend",
    "active_backend",
    "consistency",
    "register_kernel",
    "rgb_to_yuv420",
    "splat_flow",
    "temporal_blend",
    "warp",
    "yuv_to_rgb",
]


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
    """The twin when autograd needs it (the fused kernels have no backward), else the device's backend."""
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors.values()):
        return "torch"
    return active_backend(next(iter(tensors.values())).device)


def warp(image: torch.Tensor, flow: torch.Tensor, *, border: Border = "zeros") -> tuple[torch.Tensor, torch.Tensor]:
    """Backward bilinear warp by a pixel flow; returns (warped image, valid-sample mask)."""
    if border not in ("zeros", "edge"):
        raise ValueError(f"warp: border must be 'zeros' or 'edge'; got {border!r}")
    tensors = {"image": image, "flow": flow}
    _check("warp", tensors, {"flow": 2})
    return kernel_for("warp", _route(tensors))(image, flow, border=border)


def consistency(flow_fw: torch.Tensor, flow_bw: torch.Tensor) -> torch.Tensor:
    """Soft confidence (N,1,H,W) in [0, 1] of ``flow_fw`` from the forward-backward and motion-boundary tests."""
    tensors = {"flow_fw": flow_fw, "flow_bw": flow_bw}
    _check("consistency", tensors, {"flow_fw": 2, "flow_bw": 2})
    return kernel_for("consistency", _route(tensors))(flow_fw, flow_bw)


def temporal_blend(
    current: torch.Tensor,
    previous_output: torch.Tensor,
    flow: torch.Tensor,
    confidence: torch.Tensor,
    alpha: float,
) -> torch.Tensor:
    """Blend the previous output, warped to now, into the current frame where the warp is trusted.

    The ``stylize`` stage's blend; ``torch.lerp``'s formula, so it equals ``torch.lerp(current,
    warp(previous_output, flow, border="edge")[0], weight)`` bit for bit on each backend.
    """
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"temporal_blend: alpha must be in [0, 1]; got {alpha}")
    tensors = {"current": current, "previous_output": previous_output, "flow": flow, "confidence": confidence}
    _check("temporal_blend", tensors, {"previous_output": current.shape[1] if current.ndim == 4 else None,
                                       "flow": 2, "confidence": 1})
    return kernel_for("temporal_blend", _route(tensors))(current, previous_output, flow, confidence, float(alpha))


def splat_flow(flow_0to1: torch.Tensor, t: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Flow from time ``t`` to frame 0 by forward splatting; returns (flow, coverage).

    No product path calls it yet: the ``dis`` interpolator's linear flow approximation scored
    0.2 dB higher on the dev triplets (docs/benchmarks.md). It is kept, tested against its twin and
    benchmarked for interpolators that warp from time t, such as the learned one to come.
    """
    if not 0.0 <= float(t) <= 1.0:
        raise ValueError(f"splat_flow: t must be in [0, 1]; got {t}")
    tensors = {"flow_0to1": flow_0to1}
    _check("splat_flow", tensors, {"flow_0to1": 2})
    return kernel_for("splat_flow", _route(tensors))(flow_0to1, float(t))


def yuv_to_rgb(
    y: torch.Tensor, u: torch.Tensor, v: torch.Tensor, *, matrix: int = 1, full_range: bool = False, bits: int = 8
) -> torch.Tensor:
    """Planar Y'CbCr planes -> RGB (3, H, W) float32 in [0, 1]; fused kernel for 8-bit 4:2:0 on CUDA.

    For NV12 pass ``u = uv[:, 0::2]`` and ``v = uv[:, 1::2]`` (views; the kernel reads them in place).
    """
    height, width = y.shape[-2:]
    fused = (bits == 8 and y.is_cuda and y.dtype == torch.uint8 and u.dtype == torch.uint8
             and u.shape[-2:] == ((height + 1) // 2, (width + 1) // 2))
    backend = active_backend(y.device) if fused else "torch"
    return kernel_for("yuv_to_rgb", backend)(y, u, v, matrix=matrix, full_range=full_range, bits=bits)


def rgb_to_yuv420(
    rgb: torch.Tensor, *, matrix: int = 1, full_range: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """RGB (3, H, W) in [0, 1] -> 8-bit yuv420p planes; fused kernel on CUDA."""
    fused = (rgb.is_cuda and rgb.dtype in (torch.float32, torch.float16) and rgb.is_contiguous()
             and rgb.shape[-1] % 2 == 0 and rgb.shape[-2] % 2 == 0)
    backend = active_backend(rgb.device) if fused else "torch"
    return kernel_for("rgb_to_yuv420", backend)(rgb, matrix=matrix, full_range=full_range)
