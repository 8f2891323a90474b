"""The engine in-process: stages that hold, multiply, resize or fail frames, and what reaches the file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests import media
from tests.graph.test_pipeline import HOLD  # the hold-one-frame test stage
from vidgan.engine import transcode
from vidgan.errors import EncodeError, VidganError
from vidgan.frame import Frame
from vidgan.graph.registry import register_filter
from vidgan.graph.stage import Stage, StageContext
from vidgan.io.encode import EncodeOptions

LOSSLESS = EncodeOptions(codec="ffv1")


@register_filter("tests_engine_misbehave")
class Misbehave(Stage):
    """Does one wrong thing from frame ``at`` on, chosen by ``how``."""

    @dataclass(frozen=True)
    class Options:
        how: str = "fail"
        at: int = 10

    def __init__(self, options: Options, context: StageContext) -> None:
        self.options, self.seen = options, 0

    def process(self, frame: Frame) -> list[Frame]:
        self.seen += 1
        if self.seen <= self.options.at:
            return [frame]
        if self.options.how == "fail":
            raise VidganError("the stage gave up")
        if self.options.how == "twice":  # the same timestamp twice
            return [frame, frame]
        if self.options.how == "resize":
            return [frame.with_tensor(frame.to_tensor()[..., ::2, ::2].contiguous())]
        if self.options.how == "swallow":
            return []
        raise AssertionError(self.options.how)


@register_filter("tests_engine_tensor")
class ThroughTensor(Stage):
    """Converts every frame to the tensor form and back, as a model stage does."""

    @dataclass(frozen=True)
    class Options:
        pass

    def __init__(self, options: Options, context: StageContext) -> None:
        self.device = context.device

    def process(self, frame: Frame) -> list[Frame]:
        return [frame.with_tensor(frame.to_tensor(self.device).clone())]


def test_a_stage_holding_frames_back_loses_none(cfr_clip: Path, out_dir: Path) -> None:
    report = transcode(cfr_clip, out_dir / "out.mp4", chain=f"{HOLD},hflip,{HOLD}")
    assert (report.frames_in, report.frames_out, report.frames_dropped) == (50, 50, 0)
    assert media.ms(media.video_times(out_dir / "out.mp4")) == media.ms(media.video_times(cfr_clip))


def test_frames_added_by_libavfilter_get_their_own_timestamps(cfr_clip: Path, out_dir: Path) -> None:
    report = transcode(cfr_clip, out_dir / "out.mp4", chain="tpad=stop=2")
    assert report.frames_out == 52
    assert media.ms(media.video_times(out_dir / "out.mp4"))[-3:] == [1960, 2000, 2040]


def test_tensor_round_trip_keeps_the_picture(cfr_clip: Path, out_dir: Path) -> None:
    out = out_dir / "out.mkv"
    transcode(cfr_clip, out, chain="tests_engine_tensor", encode=LOSSLESS, device="cpu")
    for original, result in zip(media.video_frames(cfr_clip), media.video_frames(out), strict=True):
        assert result.format.name == "yuv420p"
        y0, u0, v0 = (p.astype(int) for p in media.planes(original))
        y1, u1, v1 = (p.astype(int) for p in media.planes(result))
        # swscale's own yuv -> rgb -> yuv round trip costs about 1 in luma (clipped saturated colours)
        # and 3 in chroma; BT.709 both ways instead of BT.601 costs 2.4 in luma, a mismatch over 6
        assert np.abs(y1 - y0).mean() < 1.5 and np.percentile(np.abs(y1 - y0), 95) <= 4
        assert np.abs(u1 - u0).mean() < 3.0 and np.abs(v1 - v0).mean() < 3.0


def test_duplicate_timestamps_are_dropped_and_counted(cfr_clip: Path, out_dir: Path) -> None:
    report = transcode(cfr_clip, out_dir / "out.mp4", chain="tests_engine_misbehave=how=twice:at=0")
    assert (report.frames_in, report.frames_out, report.frames_dropped) == (50, 50, 50)
    assert len(media.video_times(out_dir / "out.mp4")) == 50


@pytest.mark.parametrize(
    "how, error, message",
    [
        ("fail", VidganError, "the stage gave up"),
        ("resize", EncodeError, "frame size changed mid-stream from 160x120 to 80x60"),
    ],
)
def test_a_failing_stage_leaves_no_output(cfr_clip: Path, out_dir: Path, how: str, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        transcode(cfr_clip, out_dir / "out.mp4", chain=f"tests_engine_misbehave=how={how}:at=10", device="cpu")
    assert list(out_dir.iterdir()) == []


def test_a_chain_that_outputs_nothing_is_an_error(cfr_clip: Path, out_dir: Path) -> None:
    with pytest.raises(EncodeError, match="produced no frames"):
        transcode(cfr_clip, out_dir / "out.mp4", chain="tests_engine_misbehave=how=swallow:at=0")
    assert list(out_dir.iterdir()) == []


def test_report_describes_the_run(cfr_clip: Path, out_dir: Path) -> None:
    report = transcode(cfr_clip, out_dir / "out.mp4", chain="scale=80:60,null")
    assert report.input == str(cfr_clip) and report.output == str(out_dir / "out.mp4")
    assert report.pipeline == "libavfilter(scale=80:60) -> NullStage"
    assert report.decoder.startswith("h264")
    assert report.damaged is None and report.fps > 0
