"""VideoSink and encoder settings: pixel formats, odd sizes, refusals before anything is written."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from tests import media
from vidgan.engine import transcode
from vidgan.errors import EncodeError
from vidgan.io.encode import EncodeOptions, VideoSink, parse_bitrate
from vidgan.io.source import VideoSource


def output_format(path: Path) -> tuple[int, int, str]:
    with av.open(str(path)) as container:
        ctx = container.streams.video[0].codec_context
        return ctx.width, ctx.height, ctx.pix_fmt


@pytest.mark.parametrize("text, bits", [("4M", 4_000_000), ("800k", 800_000), ("1.5m", 1_500_000),
                                        ("1500000", 1_500_000), (" 2G ", 2_000_000_000)])
def test_parse_bitrate(text: str, bits: int) -> None:
    assert parse_bitrate(text) == bits


@pytest.mark.parametrize("text", ["fast", "", "4Q", "k"])
def test_bad_bitrate(text: str) -> None:
    with pytest.raises(EncodeError, match="bad bitrate"):
        parse_bitrate(text)


def test_encoder_options_use_ffmpeg_spelling() -> None:
    options = EncodeOptions(crf=23.0, preset="slow", codec_options={"tune": "film"})
    assert options.av_options() == {"tune": "film", "crf": "23", "preset": "slow"}
    assert EncodeOptions(crf=18.5).av_options() == {"crf": "18.5"}
    assert EncodeOptions().av_options() == {}


@pytest.mark.parametrize(
    "options, message",
    [
        (EncodeOptions(codec="libx999"), "unknown video encoder 'libx999'"),
        (EncodeOptions(codec="aac"), "'aac' is not a video encoder"),
        (EncodeOptions(pix_fmt="rgb24"), "libx264 cannot encode pixel format rgb24; it takes: yuv420p, "),
    ],
)
def test_bad_encoder_settings_are_refused_before_any_file_exists(cfr_clip: Path, out_dir: Path,
                                                                   options: EncodeOptions, message: str) -> None:
    source = VideoSource(str(cfr_clip))
    try:
        with pytest.raises(EncodeError, match=message):
            VideoSink(str(out_dir / "out.mp4"), options, source)
    finally:
        source.close()
    assert list(out_dir.iterdir()) == []


def test_the_input_format_is_kept_when_the_encoder_takes_it(ten_bit_clip: Path, odd_size_clip: Path,
                                                          out_dir: Path) -> None:
    transcode(ten_bit_clip, out_dir / "ten.mkv", encode=EncodeOptions(codec="ffv1"))
    assert output_format(out_dir / "ten.mkv") == (160, 120, "yuv420p10le")
    transcode(odd_size_clip, out_dir / "odd.mkv", encode=EncodeOptions(codec="ffv1"))
    assert output_format(out_dir / "odd.mkv") == (161, 121, "yuv420p")


def test_an_encoder_without_the_input_format_falls_back_to_yuv420p(ten_bit_clip: Path, out_dir: Path) -> None:
    transcode(ten_bit_clip, out_dir / "out.avi", encode=EncodeOptions(codec="mpeg4"))  # 8-bit only
    assert output_format(out_dir / "out.avi") == (160, 120, "yuv420p")


@pytest.mark.parametrize(
    "chain, pix_fmt, expected",
    [
        ("scale=trunc(iw/2)*2:trunc(ih/2)*2", None, (160, 120, "yuv420p")),
        ("null", "yuv444p", (161, 121, "yuv444p")),
    ],
    ids=["scale-to-even", "yuv444p"],
)
def test_both_fixes_the_odd_size_error_suggests_work(odd_size_clip: Path, out_dir: Path, chain: str,
                                                    pix_fmt: str | None, expected: tuple[int, int, str]) -> None:
    with pytest.raises(EncodeError, match="must be even"):
        transcode(odd_size_clip, out_dir / "refused.mp4")
    transcode(odd_size_clip, out_dir / "out.mp4", chain=chain, encode=EncodeOptions(pix_fmt=pix_fmt))
    assert output_format(out_dir / "out.mp4") == expected
    assert sorted(p.name for p in out_dir.iterdir()) == ["out.mp4"]


def test_encoder_settings_reach_the_encoder(cfr_clip: Path, out_dir: Path) -> None:
    with pytest.raises(EncodeError, match=r"libx264 refused the settings .*options \{'preset': 'warp9'\}"):
        transcode(cfr_clip, out_dir / "out.mp4", encode=EncodeOptions(preset="warp9"))
    assert list(out_dir.iterdir()) == []


def test_sink_writes_to_a_temporary_file_until_closed(cfr_clip: Path, out_dir: Path) -> None:
    source = VideoSource(str(cfr_clip))
    sink = VideoSink(str(out_dir / "out.mkv"), EncodeOptions(codec="ffv1"), source)
    try:
        frames = [item for item in source.demux() if not hasattr(item, "stream")]
        for frame in frames[:5]:
            sink.write(frame)
        assert [p.name for p in out_dir.iterdir()] == [sink.atomic.temp_path.name]
        assert ".partial-" in sink.atomic.temp_path.name
        sink.close()
    finally:
        source.close()
    assert [p.name for p in out_dir.iterdir()] == ["out.mkv"]
    assert len(media.video_times(out_dir / "out.mkv")) == 5


def test_abort_leaves_nothing(cfr_clip: Path, out_dir: Path) -> None:
    source = VideoSource(str(cfr_clip))
    sink = VideoSink(str(out_dir / "out.mp4"), EncodeOptions(), source)
    try:
        for _, frame in zip(range(3), (i for i in source.demux() if not hasattr(i, "stream"))):
            sink.write(frame)
        sink.abort()
    finally:
        source.close()
    assert list(out_dir.iterdir()) == []
