"""CuPy kernels against their torch twins on a CUDA GPU, in float32 and float16 (skipped without one)."""

from __future__ import annotations

import pytest
import torch

from tests.ops.test_kernels import FLOW_KINDS, SHAPES, make_flow
from vidgan import ops
from vidgan.ops import color, reference

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

TOLERANCE = {torch.float32: 1e-5, torch.float16: 1e-2}


@pytest.fixture
def poisoned(monkeypatch):
    pytest.importorskip("cupy", reason="CuPy is not installed (pip install vidgan[gpu])")
    from vidgan.kernels import cuda

    def poisoned_empty(shape, like, dtype=None):
        dtype = dtype or like.dtype
        if dtype == torch.uint8:
            return torch.full(shape, 77, dtype=dtype, device=like.device)
        return torch.full(shape, float("nan"), dtype=dtype, device=like.device)

    monkeypatch.setattr(cuda, "_empty", poisoned_empty)
    monkeypatch.delenv("VIDGAN_KERNELS", raising=False)
    assert ops.active_backend("cuda") == "cupy"


def _close(actual: torch.Tensor, expected: torch.Tensor, tol: float) -> None:
    torch.cuda.synchronize()
    assert not torch.isnan(actual.float()).any(), "the kernel left pixels unwritten (poison survived)"
    if actual.numel():
        assert (actual.float() - expected.float()).abs().max().item() <= tol


def _inputs(shape, kind, dtype, seed):
    gen = torch.Generator().manual_seed(seed)
    n, c, h, w = shape
    image = torch.rand(shape, generator=gen)
    flow = make_flow(kind, n, h, w, gen)
    return image.cuda().to(dtype), flow.cuda().to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", FLOW_KINDS)
def test_warp(poisoned, dtype, shape, kind):
    image, flow = _inputs(shape, kind, dtype, hash((shape, kind)) % 2**31)
    for border in ("zeros", "edge"):
        out, mask = ops.warp(image, flow, border=border)
        ref_out, ref_mask = reference.warp(image.float(), flow.float(), border=border)
        _close(out, ref_out, TOLERANCE[dtype])
        if dtype == torch.float32:
            _close(mask, ref_mask, 0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", FLOW_KINDS)
def test_consistency_and_blend(poisoned, dtype, shape, kind):
    image, flow = _inputs(shape, kind, dtype, hash((shape, kind, 1)) % 2**31)
    _, back = _inputs(shape, kind, dtype, hash((shape, kind, 2)) % 2**31)
    n, c, h, w = shape
    fw, bw = flow.float(), back.float()
    if dtype == torch.float32:
        _close(ops.consistency(flow, back), reference.consistency(fw, bw), 1e-5)
    confidence = torch.rand(n, 1, h, w, device="cuda").to(dtype)
    previous = torch.rand(shape, device="cuda").to(dtype)
    out = ops.temporal_blend(image, previous, flow, confidence, 0.7)
    ref = reference.temporal_blend(image.float(), previous.float(), fw, confidence.float(), 0.7)
    _close(out, ref, TOLERANCE[dtype])


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", FLOW_KINDS)
def test_splat(poisoned, shape, kind):
    _, flow = _inputs(shape, kind, torch.float32, hash((shape, kind, 3)) % 2**31)
    out, coverage = ops.splat_flow(flow, 0.4)
    ref_out, ref_coverage = reference.splat_flow(flow, 0.4)
    scale = 1 + ref_out.abs().max().item()
    _close(coverage, ref_coverage, 1e-4)
    _close(out * coverage, ref_out * ref_coverage, 1e-4 * scale)


@pytest.mark.parametrize("matrix", [1, 6])
@pytest.mark.parametrize("full_range", [False, True])
@pytest.mark.parametrize("size", [(2, 2), (36, 64), (35, 63)])
def test_yuv420_and_nv12_to_rgb(poisoned, matrix, full_range, size):
    h, w = size
    gen = torch.Generator().manual_seed(h * w + matrix)
    y = torch.randint(0, 256, (h, w), generator=gen, dtype=torch.uint8)
    u = torch.randint(0, 256, ((h + 1) // 2, (w + 1) // 2), generator=gen, dtype=torch.uint8)
    v = torch.randint(0, 256, u.shape, generator=gen, dtype=torch.uint8)
    expected = color.yuv_to_rgb(y, u, v, matrix=matrix, full_range=full_range)
    _close(ops.yuv_to_rgb(y.cuda(), u.cuda(), v.cuda(), matrix=matrix, full_range=full_range), expected, 1e-5)
    uv = torch.stack((u, v), dim=-1).reshape(u.shape[0], -1).cuda()
    _close(ops.yuv_to_rgb(y.cuda(), uv[:, 0::2], uv[:, 1::2], matrix=matrix, full_range=full_range), expected, 1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("matrix", [1, 6])
def test_rgb_to_yuv420(poisoned, dtype, matrix):
    rgb = torch.rand(3, 36, 64)
    expected = color.rgb_to_yuv420(rgb.to(dtype).float(), matrix=matrix, full_range=False)
    actual = ops.rgb_to_yuv420(rgb.cuda().to(dtype), matrix=matrix, full_range=False)
    for a, e in zip(actual, expected):
        torch.cuda.synchronize()
        assert (a.cpu().int() - e.int()).abs().max().item() <= 1
