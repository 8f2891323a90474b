"""Frame: libav <-> tensor conversions, timing and colour metadata travelling with the pixels."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest
import torch

from tests import media
from vidgan.frame import (
    COLORSPACE_BT709,
    COLORSPACE_SMPTE170M,
    RANGE_FULL,
    RANGE_LIMITED,
    ColorInfo,
    Frame,
)


def yuv420p(size: tuple[int, int] = (64, 48)) -> av.VideoFrame:
    frame = media.pattern_yuv(size)
    frame.pts, frame.time_base = 7, Fraction(1, 90000)
    return frame


def test_tensor_form_is_float_rgb_in_0_1() -> None:
    tensor = Frame.from_av(yuv420p()).to_tensor()
    assert tensor.shape == (1, 3, 48, 64) and tensor.dtype == torch.float32
    assert 0.0 <= tensor.min().item() and tensor.max().item() <= 1.0
    assert tensor.max().item() > 0.9 and tensor.min().item() < 0.1  # the pattern spans the range


def test_av_tensor_av_round_trip_8_bit() -> None:
    original = yuv420p((160, 120))
    frame = Frame.from_av(original)
    back = frame.with_tensor(frame.to_tensor().clone()).to_av()
    assert (back.width, back.height, back.pts, back.time_base) == (160, 120, 7, Fraction(1, 90000))
    expected = original.reformat(format="rgb24", src_colorspace=COLORSPACE_SMPTE170M, src_color_range=RANGE_LIMITED,
                                 dst_color_range=RANGE_FULL).to_ndarray()
    assert np.abs(back.to_ndarray(format="rgb24").astype(int) - expected).max() <= 2
    # and back to the encoder's format: luma as it was, up to rounding and clipped saturated colours
    yuv = back.reformat(format="yuv420p", dst_colorspace=COLORSPACE_SMPTE170M, dst_color_range=RANGE_LIMITED)
    assert np.abs(media.planes(yuv)[0].astype(int) - media.planes(original)[0]).mean() < 1.0


def test_ten_bit_keeps_more_than_256_levels() -> None:
    luma = np.linspace(64, 940, 64 * 48).reshape(48, 64).astype(np.uint16)  # every 10-bit limited-range level
    chroma = np.full((24, 32), 512, np.uint16)
    tensor = Frame.from_av(media.yuv_frame(luma, chroma, chroma, "yuv420p10le")).to_tensor()
    grey = tensor[0, 1]
    assert len(torch.unique(grey)) > 700
    assert grey.min().item() == pytest.approx(0.0, abs=2 / 255) and grey.max().item() == pytest.approx(1.0, abs=2 / 255)


def test_ten_bit_and_eight_bit_give_the_same_picture() -> None:
    # flat chroma: swscale interpolates 10-bit chroma but repeats 8-bit chroma, which differs at sharp edges
    luma = media.planes(yuv420p())[0]
    u, v = np.full((24, 32), 90, np.uint8), np.full((24, 32), 170, np.uint8)
    eight = media.yuv_frame(luma, u, v, "yuv420p")
    ten = media.yuv_frame(*(p.astype(np.uint16) * 4 for p in (luma, u, v)), "yuv420p10le")
    a, b = Frame.from_av(eight).to_tensor(), Frame.from_av(ten).to_tensor()
    assert a.shape == b.shape == (1, 3, 48, 64)
    assert (a - b).abs().mean().item() < 1 / 255 and (a - b).abs().max().item() <= 3 / 255


@pytest.mark.parametrize("color_range, white", [(RANGE_LIMITED, 235), (RANGE_FULL, 255)])
def test_the_tagged_range_decides_where_white_is(color_range: int, white: int) -> None:
    luma = np.full((8, 8), white, np.uint8)
    chroma = np.full((4, 4), 128, np.uint8)
    source = media.yuv_frame(luma, chroma, chroma, "yuv420p")
    source.color_range = color_range
    tensor = Frame.from_av(source).to_tensor()
    assert torch.allclose(tensor, torch.ones_like(tensor), atol=1 / 255)


def test_full_range_pixel_format_counts_as_full_range() -> None:
    info = ColorInfo()
    assert info.full_range_for("yuvj420p") and not info.full_range_for("yuv420p")
    assert ColorInfo(color_range=RANGE_FULL).full_range_for("yuv420p")


@pytest.mark.parametrize(
    "colorspace, height, matrix",
    [(COLORSPACE_BT709, 480, COLORSPACE_BT709), (COLORSPACE_SMPTE170M, 1080, COLORSPACE_SMPTE170M),
     (2, 480, COLORSPACE_SMPTE170M), (2, 720, COLORSPACE_BT709)],
)
def test_untagged_video_uses_bt601_below_720_lines(colorspace: int, height: int, matrix: int) -> None:
    assert ColorInfo(colorspace=colorspace).matrix_for(height) == matrix


def test_colour_tags_and_timing_follow_the_pixels() -> None:
    source = yuv420p()
    source.colorspace, source.color_range = COLORSPACE_BT709, RANGE_FULL
    frame = Frame.from_av(source)
    assert frame.color == ColorInfo(colorspace=COLORSPACE_BT709, color_range=RANGE_FULL,
                                    primaries=source.color_primaries, trc=source.color_trc)
    tensor_frame = frame.with_tensor(torch.zeros((1, 3, 10, 12)))
    assert (tensor_frame.pts, tensor_frame.time_base, tensor_frame.color) == (7, Fraction(1, 90000), frame.color)
    assert (tensor_frame.width, tensor_frame.height) == (12, 10)
    assert tensor_frame.has_tensor and not tensor_frame.has_av
    assert frame.seconds == pytest.approx(7 / 90000)
    moved = frame.with_timing(3, Fraction(1, 25))
    assert moved.to_av().pts == 3 and moved.to_av().time_base == Fraction(1, 25)


def test_to_rgb24_from_a_tensor_clamps_and_rounds() -> None:
    tensor = torch.tensor([-0.5, 0.5, 2.0]).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    rgb = Frame(pts=0, time_base=Fraction(1, 25), color=ColorInfo()).with_tensor(tensor).to_rgb24()
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 2, 3)
    assert rgb[0, 0].tolist() == [0, 128, 255]


def test_tensor_shape_is_checked() -> None:
    frame = Frame.from_av(yuv420p())
    with pytest.raises(ValueError, match=r"\(1, 3, H, W\)"):
        frame.with_tensor(torch.zeros((3, 48, 64)))


def test_a_frame_without_time_base_counts_in_25ths() -> None:
    bare = av.VideoFrame(16, 16, "yuv420p")
    assert Frame.from_av(bare).time_base == Fraction(1, 25)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_conversion_matches_the_cpu_one() -> None:
    frame = Frame.from_av(yuv420p((160, 120)))
    on_gpu, on_cpu = frame.to_tensor("cuda"), Frame.from_av(yuv420p((160, 120))).to_tensor("cpu")
    assert on_gpu.is_cuda
    assert (on_gpu.cpu() - on_cpu).abs().max().item() <= 3 / 255
    back = frame.with_tensor(on_gpu).to_av()  # converted to yuv420p on the device
    assert back.format.name == "yuv420p" and (back.width, back.height) == (160, 120)
    assert np.abs(media.planes(back)[0].astype(int) - media.planes(yuv420p((160, 120)))[0]).mean() < 1.0
