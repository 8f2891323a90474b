"""CuPy launchers for the CUDA kernels in this folder (motion.cu, splat.cu, color.cu).

Each .cu file is compiled once per device by NVRTC through ``cupy.RawModule`` (CuPy also caches
the binary on disk), kernels are launched on torch's current CUDA stream, and tensors cross over
zero-copy through DLPack. Importing this module fails with ImportError where CuPy is missing,
which :mod:`vidgan.ops` takes as "use the torch twin".
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import cupy
import numpy as np
import torch

from vidgan.ops.color import luma_weights
from vidgan.ops.kernel_table import register_kernel

BLOCK = 256
_SUFFIX = {torch.float32: "f32", torch.float16: "f16"}


@cache
def _module(source: str, device_index: int) -> cupy.RawModule:
    folder = files("vidgan.kernels")
    code = folder.joinpath(source).read_text()
    # The shared header is inlined so NVRTC needs no include path into the installed package.
    code = code.replace('#include "sampling.cuh"', folder.joinpath("sampling.cuh").read_text())
    with cupy.cuda.Device(device_index):
        module = cupy.RawModule(code=code, options=("-std=c++17",))
        module.compile()
    return module


def launch_geometry(elements: int, device_index: int) -> tuple[tuple[int], tuple[int]]:
    """Grid-stride launch: enough blocks to fill every SM a few times, never more than the work needs."""
    sms = _sm_count(device_index)
    blocks = max(1, min((elements + BLOCK - 1) // BLOCK, sms * 32))
    return (blocks,), (BLOCK,)


@cache
def _sm_count(device_index: int) -> int:
    return torch.cuda.get_device_properties(device_index).multi_processor_count


def _launch(source: str, name: str, elements: int, device: torch.device, args: tuple) -> None:
    index = device.index if device.index is not None else torch.cuda.current_device()
    kernel = _module(source, index).get_function(name)
    grid, block = launch_geometry(elements, index)
    stream = cupy.cuda.ExternalStream(torch.cuda.current_stream(device).cuda_stream, index)
    with cupy.cuda.Device(index):
        kernel(grid, block, tuple(_arg(a) for a in args), stream=stream)


def _empty(shape: tuple[int, ...], like: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Every output is allocated here (tests poison it to catch pixels a kernel never writes)."""
    return torch.empty(shape, dtype=dtype or like.dtype, device=like.device)


def _arg(value):
    if isinstance(value, torch.Tensor):
        return cupy.from_dlpack(value)  # zero-copy view of the torch storage
    if isinstance(value, float):
        return np.float32(value)
    if isinstance(value, (bool, int)):
        return np.int32(value)
    return value


@register_kernel("warp", "cupy")
def warp(image: torch.Tensor, flow: torch.Tensor, *, border: str = "zeros") -> tuple[torch.Tensor, torch.Tensor]:
    n, c, h, w = image.shape
    out = _empty((n, c, h, w), image)
    mask = _empty((n, 1, h, w), image)
    _launch("motion.cu", f"warp_{_SUFFIX[image.dtype]}", n * h * w, image.device,
            (image, flow, out, mask, n, c, h, w, border == "edge"))
    return out, mask


@register_kernel("consistency", "cupy")
def consistency(flow_fw: torch.Tensor, flow_bw: torch.Tensor) -> torch.Tensor:
    n, _, h, w = flow_fw.shape
    out = _empty((n, 1, h, w), flow_fw)
    _launch("motion.cu", f"consistency_{_SUFFIX[flow_fw.dtype]}", n * h * w, flow_fw.device,
            (flow_fw, flow_bw, out, n, h, w))
    return out


@register_kernel("temporal_blend", "cupy")
def temporal_blend(
    current: torch.Tensor, previous_output: torch.Tensor, flow: torch.Tensor, confidence: torch.Tensor, alpha: float
) -> torch.Tensor:
    n, c, h, w = current.shape
    out = _empty((n, c, h, w), current)
    _launch("motion.cu", f"temporal_blend_{_SUFFIX[current.dtype]}", n * h * w, current.device,
            (current, previous_output, flow, confidence, out, float(alpha), n, c, h, w))
    return out


@register_kernel("splat_flow", "cupy")
def splat_flow(flow_0to1: torch.Tensor, t: float) -> tuple[torch.Tensor, torch.Tensor]:
    n, _, h, w = flow_0to1.shape
    suffix = _SUFFIX[flow_0to1.dtype]
    accum = torch.zeros((n, 3, h, w), dtype=torch.float32, device=flow_0to1.device)
    _launch("splat.cu", f"splat_{suffix}", n * h * w, flow_0to1.device, (flow_0to1, accum, float(t), n, h, w))
    flow_out = _empty((n, 2, h, w), flow_0to1)
    coverage = _empty((n, 1, h, w), flow_0to1)
    _launch("splat.cu", f"splat_normalise_{suffix}", n * h * w, flow_0to1.device, (accum, flow_out, coverage, n, h, w))
    return flow_out, coverage


@register_kernel("yuv_to_rgb", "cupy")
def yuv_to_rgb(
    y: torch.Tensor, u: torch.Tensor, v: torch.Tensor, *, matrix: int, full_range: bool, bits: int = 8
) -> torch.Tensor:
    """8-bit 4:2:0 planes only (:mod:`vidgan.ops` sends other layouts to the twin); for NV12's
    interleaved UV, u and v are strided views of it, read in place."""
    h, w = y.shape
    uv_step = 2 if u.stride(-1) == 2 and v.stride(-1) == 2 else 1
    kr, kb = luma_weights(matrix)
    rgb = _empty((3, h, w), y, torch.float32)
    _launch("color.cu", "yuv420_to_rgb_f32", h * w, y.device,
            (y, u, v, uv_step, y.stride(0), u.stride(0), rgb, h, w, kr, kb, bool(full_range)))
    return rgb


@register_kernel("rgb_to_yuv420", "cupy")
def rgb_to_yuv420(
    rgb: torch.Tensor, *, matrix: int, full_range: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    _, h, w = rgb.shape
    kr, kb = luma_weights(matrix)
    y = _empty((h, w), rgb, torch.uint8)
    u = _empty((h // 2, w // 2), rgb, torch.uint8)
    v = _empty((h // 2, w // 2), rgb, torch.uint8)
    _launch("color.cu", f"rgb_to_yuv420_{_SUFFIX[rgb.dtype]}", (h // 2) * (w // 2), rgb.device,
            (rgb, y, u, v, 1, w // 2, h, w, kr, kb, bool(full_range)))
    return y, u, v
