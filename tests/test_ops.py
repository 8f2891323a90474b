"""Colour conversions on tensors (vidgan.ops) against swscale, the converter FFmpeg itself uses."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch

from tests import media
from vidgan import ops
from vidgan.frame import COLORSPACE_BT709, COLORSPACE_BT2020_NCL, COLORSPACE_SMPTE170M, RANGE_FULL, RANGE_LIMITED

MATRICES = {"bt601": COLORSPACE_SMPTE170M, "bt709": COLORSPACE_BT709}


def yuv_tensors(frame: av.VideoFrame) -> list[torch.Tensor]:
    return [torch.from_numpy(plane.copy()) for plane in media.planes(frame)]


def swscale_rgb(frame: av.VideoFrame, matrix: int, full_range: bool) -> np.ndarray:
    rgb = frame.reformat(format="rgb24", src_colorspace=matrix,
                         src_color_range=RANGE_FULL if full_range else RANGE_LIMITED, dst_color_range=RANGE_FULL)
    return rgb.to_ndarray().astype(np.float64)


def as_rgb255(tensor: torch.Tensor) -> np.ndarray:
    return tensor.permute(1, 2, 0).numpy().astype(np.float64) * 255.0


def picture(size: str) -> av.VideoFrame:
    if size != "161x121":
        width, height = map(int, size.split("x"))
        return media.pattern_yuv((width, height))
    # With an odd height swscale leaves its unscaled converter (which repeats chroma, as ops does)
    # and interpolates chroma; over flat chroma both agree, so the maths and the edges are compared.
    luma = media.planes(media.pattern_yuv((161, 121)))[0]
    return media.yuv_frame(luma, np.full((61, 81), 90, np.uint8), np.full((61, 81), 170, np.uint8), "yuv420p")


@pytest.mark.parametrize("size", ["160x120", "161x120", "161x121"])
@pytest.mark.parametrize("full_range", [False, True], ids=["limited", "full"])
@pytest.mark.parametrize("matrix", MATRICES.values(), ids=MATRICES.keys())
def test_yuv_to_rgb_matches_swscale(size: str, matrix: int, full_range: bool) -> None:
    frame = picture(size)
    got = ops.yuv_to_rgb(*yuv_tensors(frame), matrix=matrix, full_range=full_range)
    assert got.shape == (3, frame.height, frame.width) and got.dtype == torch.float32
    diff = np.abs(as_rgb255(got) - swscale_rgb(frame, matrix, full_range))
    assert diff.mean() < 1.0
    assert diff.max() <= 3.0  # swscale's fast path rounds coarsely; a wrong matrix or range is off by tens


def test_ten_bit_limited_range_is_eight_bit_times_four() -> None:
    frame = media.pattern_yuv((64, 48))
    eight = yuv_tensors(frame)
    ten = [plane.to(torch.int16) * 4 for plane in eight]
    a = ops.yuv_to_rgb(*eight, matrix=COLORSPACE_BT709)
    b = ops.yuv_to_rgb(*ten, matrix=COLORSPACE_BT709, bits=10)
    assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("full_range", [False, True], ids=["limited", "full"])
@pytest.mark.parametrize("matrix", MATRICES.values(), ids=MATRICES.keys())
def test_ten_bit_matches_swscale(matrix: int, full_range: bool) -> None:
    # a luma ramp over flat chroma: swscale's 10-bit path interpolates chroma, ops repeats it,
    # and only flat chroma makes the two agree (the maths is what is under test here)
    y = np.linspace(64, 940, 64 * 48).reshape(48, 64).astype(np.uint16)
    u, v = np.full((24, 32), 400, np.uint16), np.full((24, 32), 600, np.uint16)
    frame = media.yuv_frame(y, u, v, "yuv420p10le")
    got = ops.yuv_to_rgb(*(p.to(torch.int32) for p in yuv_tensors(frame)), matrix=matrix,
                         full_range=full_range, bits=10)
    reference = frame.reformat(format="rgb48le", src_colorspace=matrix,
                               src_color_range=RANGE_FULL if full_range else RANGE_LIMITED, dst_color_range=RANGE_FULL)
    diff = np.abs(as_rgb255(got) - reference.to_ndarray().astype(np.float64) / 257)
    assert diff.max() <= 1.0


@pytest.mark.parametrize("full_range", [False, True], ids=["limited", "full"])
@pytest.mark.parametrize("matrix", [COLORSPACE_SMPTE170M, COLORSPACE_BT709, COLORSPACE_BT2020_NCL])
def test_rgb_to_yuv420_and_back(matrix: int, full_range: bool) -> None:
    """Colours constant over each 2x2 block survive 4:2:0 exactly, up to 8-bit rounding."""
    blocks = torch.rand((3, 30, 40), generator=torch.Generator().manual_seed(7))
    rgb = blocks.repeat_interleave(2, dim=1).repeat_interleave(2, dim=2)
    y, u, v = ops.rgb_to_yuv420(rgb, matrix=matrix, full_range=full_range)
    assert (y.dtype, y.shape, u.shape, v.shape) == (torch.uint8, (60, 80), (30, 40), (30, 40))
    back = ops.yuv_to_rgb(y, u, v, matrix=matrix, full_range=full_range)
    assert (back - rgb).abs().max().item() <= 2 / 255


@pytest.mark.parametrize("full_range", [False, True], ids=["limited", "full"])
@pytest.mark.parametrize("matrix", MATRICES.values(), ids=MATRICES.keys())
def test_rgb_to_yuv420_luma_matches_swscale(matrix: int, full_range: bool) -> None:
    rgb = media.pattern_frames((160, 120), 1)[0].to_ndarray(format="rgb24")
    y, _, _ = ops.rgb_to_yuv420(torch.from_numpy(rgb).permute(2, 0, 1).float() / 255, matrix=matrix,
                                full_range=full_range)
    reference = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        format="yuv420p", dst_colorspace=matrix, dst_color_range=RANGE_FULL if full_range else RANGE_LIMITED)
    assert np.abs(y.numpy().astype(int) - media.planes(reference)[0]).max() <= 1


def test_limited_range_black_and_white_are_0_and_1() -> None:
    y = torch.tensor([[16, 235]], dtype=torch.uint8)
    chroma = torch.tensor([[128]], dtype=torch.uint8)
    rgb = ops.yuv_to_rgb(y, chroma, chroma, matrix=COLORSPACE_BT709)
    assert torch.allclose(rgb[:, 0, 0], torch.zeros(3)) and torch.allclose(rgb[:, 0, 1], torch.ones(3))


def test_bad_inputs_are_refused() -> None:
    plane = torch.zeros((4, 4), dtype=torch.uint8)
    with pytest.raises(ValueError, match="unsupported YUV matrix 3"):
        ops.yuv_to_rgb(plane, plane[:2, :2], plane[:2, :2], matrix=3)
    with pytest.raises(ValueError, match="2-D planes"):
        ops.yuv_to_rgb(plane[None], plane, plane)
    with pytest.raises(ValueError, match="differ in shape"):
        ops.yuv_to_rgb(plane, plane[:2, :2], plane[:2, :1])
    with pytest.raises(ValueError, match="even width and height"):
        ops.rgb_to_yuv420(torch.zeros((3, 5, 4)))
    with pytest.raises(ValueError, match=r"RGB tensor \(3, H, W\)"):
        ops.rgb_to_yuv420(torch.zeros((1, 3, 4, 4)))
