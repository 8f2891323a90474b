"""The kernel table: what is registered, how a backend is picked, and the fallback to the torch twin."""

from __future__ import annotations

import logging

import pytest
import torch

from vidgan import ops
from vidgan.errors import UnknownNameError
from vidgan.ops import color, kernel_table, reference
from vidgan.ops.kernel_table import KERNELS, FusedBackend, kernel_for, register_kernel

OPERATIONS = ["warp", "consistency", "temporal_blend", "splat_flow", "yuv_to_rgb", "rgb_to_yuv420"]


def test_every_operation_has_its_torch_twin():
    assert sorted(KERNELS.names()) == sorted(OPERATIONS)
    assert kernel_for("warp", "torch") is reference.warp
    assert kernel_for("yuv_to_rgb", "torch") is color.yuv_to_rgb


def test_numba_registers_the_motion_kernels_and_colour_falls_back_to_the_twin():
    from vidgan.kernels import cpu

    assert ops.active_backend("cpu") == "numba"
    for name in ("warp", "consistency", "temporal_blend", "splat_flow"):
        assert kernel_for(name, "numba") is getattr(cpu, name)
    assert kernel_for("rgb_to_yuv420", "numba") is color.rgb_to_yuv420


def test_an_unknown_operation_says_what_exists():
    with pytest.raises(UnknownNameError, match="unknown operation 'wrap'; did you mean 'warp'"):
        kernel_for("wrap", "torch")


def test_a_second_kernel_for_the_same_backend_is_refused():
    with pytest.raises(ValueError, match="'warp' already has a torch kernel"):
        register_kernel("warp", "torch")(lambda *args, **kwargs: None)


def test_the_dispatcher_calls_the_registered_kernel(monkeypatch):
    calls = []

    def spy(image, flow, *, border):
        calls.append(border)
        return reference.warp(image, flow, border=border)

    monkeypatch.setitem(KERNELS.get("warp"), "numba", spy)
    monkeypatch.delenv("VIDGAN_KERNELS", raising=False)
    ops.warp(torch.rand(1, 3, 4, 4), torch.zeros(1, 2, 4, 4), border="edge")
    assert calls == ["edge"]
    monkeypatch.setenv("VIDGAN_KERNELS", "torch")  # forced twin: the fused kernel is not called
    ops.warp(torch.rand(1, 3, 4, 4), torch.zeros(1, 2, 4, 4))
    monkeypatch.delenv("VIDGAN_KERNELS")
    ops.warp(torch.rand(1, 3, 4, 4, requires_grad=True), torch.zeros(1, 2, 4, 4))  # grad: the twin
    assert calls == ["edge"]


def test_a_backend_that_does_not_import_is_reported_once_and_falls_back(monkeypatch, caplog):
    broken = FusedBackend("vidgan.kernels.no_such_module", "Numba", "cpu", "CPU")
    monkeypatch.setitem(kernel_table.FUSED_BACKENDS, "numba", broken)
    monkeypatch.delenv("VIDGAN_KERNELS", raising=False)
    kernel_table.backend_available.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="vidgan"):
            assert ops.active_backend("cpu") == "torch"
            image = torch.rand(1, 3, 5, 5)
            out, _ = ops.warp(image, torch.zeros(1, 2, 5, 5))
            assert torch.equal(out, image)
            ops.active_backend("cpu")
        warnings = [r for r in caplog.records if "Numba kernels unavailable" in r.getMessage()]
        assert len(warnings) == 1
        assert "using the torch reference on CPU" in warnings[0].getMessage()
    finally:
        kernel_table.backend_available.cache_clear()


@pytest.mark.parametrize("shape", [(1, 3, 36, 64), (1, 3, 17, 23), (2, 4, 5, 3)])
def test_temporal_blend_is_torch_lerp_over_the_warp_bit_for_bit(shape):
    """What the stylize stage's output relies on: the fused blend = torch.lerp(current, warp(previous), w)."""
    gen = torch.Generator().manual_seed(sum(shape))
    n, c, h, w = shape
    current, previous = torch.rand(shape, generator=gen), torch.rand(shape, generator=gen)
    flow = torch.randn(n, 2, h, w, generator=gen) * 3
    confidence = torch.rand(n, 1, h, w, generator=gen)
    for backend in ("numba", "torch"):
        blend = kernel_for("temporal_blend", backend)
        warped, inside = kernel_for("warp", backend)(previous, flow, border="edge")
        weight = (confidence * inside * 0.8).clamp_(0.0, 1.0)
        assert torch.equal(blend(current, previous, flow, confidence, 0.8), torch.lerp(current, warped, weight))
