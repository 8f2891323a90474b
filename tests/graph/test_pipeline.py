"""Pipeline: stages in order, frames held back by a stage come out at flush, in order."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
import pytest

from vidgan.errors import FilterOptionError, UnknownFilterError
from vidgan.frame import ColorInfo, Frame
from vidgan.graph.avfilter import LibavFilterStage
from vidgan.graph.pipeline import Pipeline
from vidgan.graph.registry import register_filter
from vidgan.graph.stage import Stage, StageContext
from vidgan.stages.null import NullStage

HOLD = "tests_pipeline_hold_one"


@register_filter(HOLD)
class HoldOne(Stage):
    """Emits each frame one frame late (as an interpolator must); the last one at flush."""

    @dataclass(frozen=True)
    class Options:
        pass

    def __init__(self, options: Options, context: StageContext) -> None:
        self.held: Frame | None = None

    def process(self, frame: Frame) -> list[Frame]:
        out = [] if self.held is None else [self.held]
        self.held = frame
        return out

    def flush(self) -> list[Frame]:
        out = [] if self.held is None else [self.held]
        self.held = None
        return out


def make_frames(count: int, size: tuple[int, int] = (16, 8)) -> list[Frame]:
    """Grey frames whose left column is black, numbered by pts (and brightness)."""
    frames = []
    for index in range(count):
        pixels = np.full((size[1], size[0], 3), 10 * index + 40, np.uint8)
        pixels[:, 0] = 0
        frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
        frame.pts, frame.time_base, frame.duration = index, Fraction(1, 25), 1  # as a decoder sets them
        frames.append(Frame.from_av(frame))
    return frames


def run(pipeline: Pipeline, frames: list[Frame]) -> tuple[list[Frame], list[Frame]]:
    """(frames out while processing, frames out at flush)."""
    during = [out for frame in frames for out in pipeline.process(frame)]
    return during, pipeline.flush()


def test_a_held_frame_comes_out_at_flush() -> None:
    pipeline = Pipeline.from_chain(HOLD)
    during, flushed = run(pipeline, make_frames(4))
    assert [f.pts for f in during] == [0, 1, 2]
    assert [f.pts for f in flushed] == [3]


def test_flush_passes_held_frames_through_the_later_stages_in_order() -> None:
    pipeline = Pipeline.from_chain(f"{HOLD},{HOLD},{HOLD}")
    during, flushed = run(pipeline, make_frames(5))
    assert [f.pts for f in during] == [0, 1]
    assert [f.pts for f in flushed] == [2, 3, 4]  # stage 1 releases 4 into stage 2, which still holds 3


def test_flush_of_a_libavfilter_stage_feeds_the_stages_after_it() -> None:
    context = StageContext(frame_rate=Fraction(25))  # tpad times the frames it adds by the input rate
    pipeline = Pipeline.from_chain(f"{HOLD},tpad=stop=2,hflip,{HOLD}", context)
    during, flushed = run(pipeline, make_frames(5))
    out = during + flushed
    assert [f.pts for f in out] == list(range(7))
    assert all(f.to_rgb24()[0, -1, 0] == 0 for f in out)  # every frame went through hflip


def test_frames_go_straight_on_to_the_next_stage() -> None:
    pipeline = Pipeline.from_chain("hflip,null,hflip")
    frames = make_frames(3)
    for frame in frames:
        (out,) = pipeline.process(frame)
        assert out.pts == frame.pts
        assert np.array_equal(out.to_rgb24(), frame.to_rgb24())
    assert pipeline.flush() == []


def test_a_size_change_mid_stream_rebuilds_the_libavfilter_graph() -> None:
    pipeline = Pipeline.from_chain("hflip")
    frames = make_frames(2, (16, 8)) + make_frames(2, (32, 24))
    for index, frame in enumerate(frames):
        frame.pts = index
    during, flushed = run(pipeline, frames)
    out = during + flushed
    assert [(f.pts, f.width, f.height) for f in out] == [(0, 16, 8), (1, 16, 8), (2, 32, 24), (3, 32, 24)]


def test_consecutive_libavfilter_filters_share_one_stage() -> None:
    pipeline = Pipeline.from_chain("scale=32:24,hflip,null,vflip")
    assert [type(s) for s in pipeline.stages] == [LibavFilterStage, NullStage, LibavFilterStage]
    assert pipeline.describe() == "libavfilter(scale=32:24,hflip) -> NullStage -> libavfilter(vflip)"
    assert not pipeline.one_to_one
    assert Pipeline.from_chain("null").one_to_one


def test_vidgan_filter_wins_over_the_libavfilter_one_of_the_same_name() -> None:
    assert [type(s) for s in Pipeline.from_chain("null").stages] == [NullStage]


def test_empty_chain_is_a_null_pipeline() -> None:
    assert [type(s) for s in Pipeline.from_chain("").stages] == [NullStage]


def test_unknown_filter() -> None:
    with pytest.raises(UnknownFilterError, match=r"unknown filter 'hflp'; did you mean 'hflip'\?"):
        Pipeline.from_chain("null,hflp")


@pytest.mark.parametrize(
    "chain, message",
    [
        ("scale=bogus=1", "'scale' rejected 'bogus=1'"),
        ("overlay", "not a one-input, one-output video filter"),
        ("buffersink", "unknown filter 'buffersink'"),
    ],
)
def test_bad_libavfilter_calls_fail_when_the_pipeline_is_built(chain: str, message: str) -> None:
    with pytest.raises((FilterOptionError, UnknownFilterError), match=message):
        Pipeline.from_chain(chain)


def test_libav_conversion_keeps_levels_of_packed_yuv():
    """hflip has no YUYV path, so the graph converts to planar; with the matrix and range passed to the
    buffer source, the luma that comes out is the input's luma mirrored, not rescaled."""
    y, x = np.mgrid[0:48, 0:64]
    rgb = np.stack([x * 4, y * 5, (x + y) * 2], -1).astype(np.uint8)
    yuyv = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        format="yuyv422", dst_colorspace=1, dst_color_range=1).to_ndarray()
    video = av.VideoFrame.from_ndarray(yuyv, format="yuyv422")
    video.pts = 0
    frame = Frame(pts=0, time_base=Fraction(1, 25), color=ColorInfo(colorspace=1, color_range=1), _av=video)
    out = Pipeline.from_chain("hflip").process(frame)[0].to_av()
    luma = np.frombuffer(out.planes[0], np.uint8).reshape(48, -1)[:, :64]
    np.testing.assert_array_equal(luma, yuyv[:, ::-1, 0])
