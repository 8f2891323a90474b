"""Fused kernels against their torch twins, plus behaviour and bad-input tests of vidgan.ops.

Parity runs on fresh random inputs in several shapes (odd sizes, single rows/columns, one
pixel), with flows that point outside the image, zero flow, large flows and NaN; every output
is poisoned before the kernel runs so a pixel the kernel never writes shows up as NaN.
"""

from __future__ import annotations

import math
import os

import pytest
import torch

from vidgan import ops
from vidgan.ops import reference

SHAPES = [(1, 3, 1, 1), (1, 3, 1, 9), (1, 1, 7, 1), (2, 3, 17, 23), (1, 3, 64, 48), (1, 4, 31, 5)]
FLOW_KINDS = ["random", "zero", "outside", "large", "nan"]


def make_flow(kind: str, n: int, h: int, w: int, generator: torch.Generator, device="cpu", dtype=torch.float32):
    if kind == "zero":
        flow = torch.zeros(n, 2, h, w)
    elif kind == "outside":
        flow = torch.randn(n, 2, h, w, generator=generator) + torch.tensor([w, -h], dtype=torch.float32).view(1, 2, 1, 1)
    elif kind == "large":
        flow = torch.randn(n, 2, h, w, generator=generator) * 4 * max(h, w)
    else:
        flow = torch.randn(n, 2, h, w, generator=generator) * 2.5
    if kind == "nan":
        flow.view(-1)[:: 7] = float("nan")
        flow.view(-1)[3::11] = float("inf")
    return flow.to(device=device, dtype=dtype)


def smooth_flow(n: int, h: int, w: int, generator: torch.Generator) -> torch.Tensor:
    """A rotation-and-shift field: consistent forward/backward pairs exist for it."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    angle = float(torch.rand(1, generator=generator)) * 0.02
    dx = (math.cos(angle) - 1) * (xs - w / 2) - math.sin(angle) * (ys - h / 2) + 1.5
    dy = math.sin(angle) * (xs - w / 2) + (math.cos(angle) - 1) * (ys - h / 2) - 0.75
    return torch.stack((dx, dy)).unsqueeze(0).repeat(n, 1, 1, 1)


@pytest.fixture
def poisoned(monkeypatch):
    """Make every kernel output start as NaN."""
    from vidgan.kernels import cpu

    def poisoned_empty(shape, like, *extra):
        return torch.full(shape, float("nan"), dtype=like.dtype, device=like.device)

    monkeypatch.setattr(cpu, "_empty", poisoned_empty)
    monkeypatch.delenv("VIDGAN_KERNELS", raising=False)
    assert ops.active_backend("cpu") == "numba"


def _close(actual: torch.Tensor, expected: torch.Tensor, tol: float) -> None:
    assert not torch.isnan(actual).any(), "the kernel left pixels unwritten (poison survived)"
    assert actual.shape == expected.shape
    if actual.numel():
        assert (actual - expected).abs().max().item() <= tol


class TestNumbaParity:
    @pytest.mark.parametrize("shape", SHAPES)
    @pytest.mark.parametrize("kind", FLOW_KINDS)
    @pytest.mark.parametrize("border", ["zeros", "edge"])
    def test_warp(self, poisoned, shape, kind, border):
        gen = torch.Generator().manual_seed(hash((shape, kind, border)) % 2**31)
        n, c, h, w = shape
        image = torch.rand(shape, generator=gen)
        flow = make_flow(kind, n, h, w, gen)
        out, mask = ops.warp(image, flow, border=border)
        ref_out, ref_mask = reference.warp(image, flow, border=border)
        _close(out, ref_out, 1e-5)
        _close(mask, ref_mask, 0)

    @pytest.mark.parametrize("shape", SHAPES)
    @pytest.mark.parametrize("kind", FLOW_KINDS + ["smooth"])
    def test_consistency(self, poisoned, shape, kind):
        gen = torch.Generator().manual_seed(hash((shape, kind)) % 2**31)
        n, _, h, w = shape
        if kind == "smooth":
            fw = smooth_flow(n, h, w, gen)
            bw = -fw + 0.05 * torch.randn(fw.shape, generator=gen)
        else:
            fw, bw = make_flow(kind, n, h, w, gen), make_flow(kind, n, h, w, gen)
        _close(ops.consistency(fw, bw), reference.consistency(fw, bw), 1e-5)

    @pytest.mark.parametrize("shape", SHAPES)
    @pytest.mark.parametrize("kind", FLOW_KINDS)
    def test_temporal_blend(self, poisoned, shape, kind):
        gen = torch.Generator().manual_seed(hash((shape, kind, "blend")) % 2**31)
        n, c, h, w = shape
        current, previous = torch.rand(shape, generator=gen), torch.rand(shape, generator=gen)
        flow = make_flow(kind, n, h, w, gen)
        confidence = torch.rand(n, 1, h, w, generator=gen)
        for alpha in (0.0, 0.6, 1.0):
            _close(ops.temporal_blend(current, previous, flow, confidence, alpha),
                   reference.temporal_blend(current, previous, flow, confidence, alpha), 1e-5)

    @pytest.mark.parametrize("shape", SHAPES)
    @pytest.mark.parametrize("kind", FLOW_KINDS)
    def test_splat_flow(self, poisoned, shape, kind):
        gen = torch.Generator().manual_seed(hash((shape, kind, "splat")) % 2**31)
        n, _, h, w = shape
        flow = make_flow(kind, n, h, w, gen)
        for t in (0.0, 0.3, 1.0):
            out, coverage = ops.splat_flow(flow, t)
            ref_out, ref_coverage = reference.splat_flow(flow, t)
            _close(coverage, ref_coverage, 1e-4)
            # Splatting sums in another order; where little lands, the division magnifies rounding,
            # so compare the splatted sums everywhere and the normalised flow where coverage is real.
            _close(out * coverage, ref_out * ref_coverage, 1e-4 * (1 + ref_out.abs().max().item()))
            covered = ref_coverage.expand_as(ref_out) >= 0.05
            _close(out[covered], ref_out[covered], 1e-4 * (1 + ref_out.abs().max().item()))


class TestBehaviour:
    def test_zero_flow_is_identity(self):
        image = torch.rand(1, 3, 9, 13)
        out, mask = ops.warp(image, torch.zeros(1, 2, 9, 13))
        assert torch.equal(out, image) and bool(mask.all())

    def test_integer_shift_moves_pixels(self):
        image = torch.rand(1, 1, 6, 8)
        flow = torch.zeros(1, 2, 6, 8)
        flow[:, 0] = 2.0  # each output pixel reads 2 to the right
        out, mask = ops.warp(image, flow)
        assert torch.allclose(out[..., :6], image[..., 2:])
        assert torch.equal(mask[..., 6:], torch.zeros(1, 1, 6, 2))
        assert torch.equal(out[..., 6:], torch.zeros(1, 1, 6, 2))  # zeros border

    def test_consistent_flow_pair_is_trusted_and_a_mismatch_is_not(self):
        fw = smooth_flow(1, 40, 60, torch.Generator().manual_seed(1))
        bw = -fw
        conf = ops.consistency(fw, bw)
        interior = conf[..., 5:-5, 5:-5]
        assert interior.min() > 0.99
        bad = bw.clone()
        bad[..., 10:20, 10:20] += 5.0  # an occluder the forward flow does not know about
        assert ops.consistency(fw, bad)[..., 12:18, 10:16].max() < 0.01

    def test_blend_follows_confidence_and_alpha(self):
        current, previous = torch.zeros(1, 3, 5, 5), torch.ones(1, 3, 5, 5)
        flow = torch.zeros(1, 2, 5, 5)
        conf = torch.ones(1, 1, 5, 5)
        assert torch.allclose(ops.temporal_blend(current, previous, flow, conf, 0.25), torch.full((1, 3, 5, 5), 0.25))
        assert torch.equal(ops.temporal_blend(current, previous, flow, conf * 0, 1.0), current)

    def test_nan_flow_is_invalid_not_a_crash(self):
        flow = torch.full((1, 2, 4, 4), float("nan"))
        out, mask = ops.warp(torch.rand(1, 3, 4, 4), flow)
        assert torch.equal(out, torch.zeros_like(out)) and torch.equal(mask, torch.zeros_like(mask))
        assert torch.equal(ops.consistency(flow, flow), torch.zeros(1, 1, 4, 4))

    def test_splat_of_uniform_motion_is_its_scaled_negative(self):
        flow = torch.zeros(1, 2, 8, 8)
        flow[:, 0] = 2.0
        out, coverage = ops.splat_flow(flow, 0.5)
        assert torch.allclose(out[:, 0, :, 1:], torch.full((1, 8, 7), -1.0))
        assert torch.equal(coverage[:, 0, :, 0], torch.zeros(1, 8))  # nothing lands on the first column

    def test_grad_flows_through_the_torch_twin(self):
        image = torch.rand(1, 3, 6, 6, requires_grad=True)
        out, _ = ops.warp(image, torch.full((1, 2, 6, 6), 0.5))
        out.sum().backward()
        assert image.grad is not None and image.grad.abs().sum() > 0

    def test_forcing_the_torch_twin(self, monkeypatch):
        monkeypatch.setenv("VIDGAN_KERNELS", "torch")
        assert ops.active_backend("cpu") == "torch"


class TestBadInput:
    def test_shape_mismatch(self):
        with pytest.raises(ValueError, match=r"warp: flow has shape \(1, 2, 5, 5\), which does not match image"):
            ops.warp(torch.rand(1, 3, 4, 4), torch.zeros(1, 2, 5, 5))

    def test_flow_needs_two_channels(self):
        with pytest.raises(ValueError, match="flow must have 2 channel"):
            ops.warp(torch.rand(1, 3, 4, 4), torch.zeros(1, 3, 4, 4))

    def test_not_nchw(self):
        with pytest.raises(ValueError, match=r"image must be \(N, C, H, W\)"):
            ops.warp(torch.rand(3, 4, 4), torch.zeros(1, 2, 4, 4))

    def test_dtype_mismatch(self):
        with pytest.raises(TypeError, match="flow is torch.float64 but image is torch.float32"):
            ops.warp(torch.rand(1, 3, 4, 4), torch.zeros(1, 2, 4, 4, dtype=torch.float64))

    def test_half_is_cuda_only(self):
        with pytest.raises(TypeError, match="torch.float16 is not supported on cpu"):
            ops.warp(torch.rand(1, 3, 4, 4).half(), torch.zeros(1, 2, 4, 4).half())

    def test_non_contiguous(self):
        image = torch.rand(1, 3, 4, 8)[..., ::2]
        with pytest.raises(ValueError, match="image must be contiguous"):
            ops.warp(image, torch.zeros(1, 2, 4, 4))

    def test_different_devices(self):
        with pytest.raises(ValueError, match="flow is on meta but image is on cpu"):
            ops.warp(torch.rand(1, 3, 4, 4), torch.zeros(1, 2, 4, 4, device="meta"))

    def test_not_a_tensor(self):
        with pytest.raises(TypeError, match="flow must be a torch.Tensor"):
            ops.warp(torch.rand(1, 3, 4, 4), [[0.0]])

    def test_alpha_and_t_ranges(self):
        x = torch.rand(1, 3, 4, 4)
        with pytest.raises(ValueError, match="alpha must be in"):
            ops.temporal_blend(x, x, torch.zeros(1, 2, 4, 4), torch.ones(1, 1, 4, 4), 1.5)
        with pytest.raises(ValueError, match="t must be in"):
            ops.splat_flow(torch.zeros(1, 2, 4, 4), -0.1)

    def test_unknown_border(self):
        with pytest.raises(ValueError, match="border must be"):
            ops.warp(torch.rand(1, 3, 4, 4), torch.zeros(1, 2, 4, 4), border="reflect")


def test_numba_keeps_openmp_when_openvino_brings_tbb():
    """OpenVINO loads a TBB that Numba could pick; the CPU kernels pin OpenMP first (a fresh process:
    the layer is chosen once, on the first parallel launch)."""
    import subprocess
    import sys

    pytest.importorskip("numba")
    script = ("import importlib.util, torch\n"
              "if importlib.util.find_spec('openvino'):\n"
              "    import openvino; openvino.Core()\n"
              "from vidgan import ops\n"
              "ops.warp(torch.rand(1, 3, 8, 8), torch.zeros(1, 2, 8, 8))\n"
              "import numba; print(numba.threading_layer())\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_THREADING")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "omp"
