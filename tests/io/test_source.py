"""VideoSource: what it accepts, what it refuses, and what it hands the engine."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from tests import media
from vidgan.errors import CorruptInputError, InputNotFoundError, UnsupportedInputError
from vidgan.frame import Frame
from vidgan.io.source import MAX_PIXELS, MAX_SIDE, VideoSource, check_resolution, is_image_sequence


def drain(source: VideoSource) -> tuple[list[Frame], list[tuple[str, int]]]:
    """The decoded frames, and (stream type, size) of each side packet (packets die with their container)."""
    frames, packets = [], []
    for item in source.demux():
        if isinstance(item, Frame):
            frames.append(item)
        else:
            packets.append((item.stream.type, item.size))
    return frames, packets


def test_probe_describes_the_video(cfr_clip: Path) -> None:
    source = VideoSource(str(cfr_clip))
    try:
        info = source.info
        assert (info.width, info.height, info.pix_fmt, info.codec) == (160, 120, "yuv420p", "h264")
        assert info.frame_rate == 25 and info.frames == 50
        assert info.duration == pytest.approx(2.0, abs=0.05)
        assert info.decoder.startswith("h264 (software")
        assert [s.type for s in source.side_streams] == ["audio"]
    finally:
        source.close()


def test_demux_yields_frames_in_order_and_audio_packets(cfr_clip: Path) -> None:
    source = VideoSource(str(cfr_clip))
    try:
        frames, packets = drain(source)
    finally:
        source.close()
    assert media.ms([f.seconds for f in frames]) == [i * 40 for i in range(50)]
    assert packets and all(kind == "audio" and size > 0 for kind, size in packets)
    assert source.damage is None
    source.raise_if_damaged(len(frames))  # a clean input passes


def test_vfr_timestamps_come_out_unchanged(vfr_clip: Path) -> None:
    source = VideoSource(str(vfr_clip))
    try:
        frames, _ = drain(source)
    finally:
        source.close()
    assert frames[0].time_base == Fraction(1, 1000)
    assert [f.pts for f in frames] == media.vfr_pts_ms()


def test_ten_bit_is_decoded_as_ten_bit(ten_bit_clip: Path) -> None:
    source = VideoSource(str(ten_bit_clip))
    try:
        assert source.info.pix_fmt == "yuv420p10le"
        frames, _ = drain(source)
    finally:
        source.close()
    assert frames[0].to_av().format.name == "yuv420p10le"


def test_truncated_file_is_reported_as_damaged(truncated_mp4: Path) -> None:
    source = VideoSource(str(truncated_mp4))
    try:
        frames, _ = drain(source)
    finally:
        source.close()
    assert 30 < len(frames) < 100
    assert source.damage is not None and source.corrupt_packets >= 1
    with pytest.raises(CorruptInputError, match=r"is damaged .* frame\(s\) decoded\); pass --allow-corrupt"):
        source.raise_if_damaged(len(frames))


@pytest.mark.parametrize(
    "fixture, error, message",
    [
        ("text_file", UnsupportedInputError, "not a readable video"),
        ("empty_file", UnsupportedInputError, r"is empty \(0 bytes\)"),
        ("audio_only", UnsupportedInputError, "has no video stream"),
    ],
)
def test_unusable_inputs_are_refused_at_open(request, fixture: str, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        VideoSource(str(request.getfixturevalue(fixture)))


def test_missing_input_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError, match="does not exist") as info:
        VideoSource(str(tmp_path / "nope.mp4"))
    assert isinstance(info.value, FileNotFoundError)  # library callers can catch the builtin


def test_folder_input_points_at_image_sequences(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedInputError, match=r"is a folder, not a video .*%05d\.png"):
        VideoSource(str(tmp_path))


def test_missing_image_sequence_folder(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError, match="input folder .* does not exist"):
        VideoSource(str(tmp_path / "frames" / "%05d.png"))


@pytest.mark.parametrize("size", [(40000, 40000), (20000, 64), (16000, 16000)])
def test_absurd_resolutions_are_refused(tmp_path: Path, size: tuple[int, int]) -> None:
    header = media.y4m_header(tmp_path, *size)
    with pytest.raises(UnsupportedInputError):
        VideoSource(str(header))


def test_resolution_limits() -> None:
    check_resolution(MAX_SIDE, MAX_PIXELS // MAX_SIDE, "16K")  # the largest accepted
    check_resolution(1, 1, "one pixel")
    for width, height in [(MAX_SIDE + 1, 2), (2, MAX_SIDE + 1), (MAX_SIDE, MAX_SIDE), (0, 10), (10, -1)]:
        with pytest.raises(UnsupportedInputError, match=f"unsupported resolution {width}x{height}"):
            check_resolution(width, height, "clip")


def test_image_sequence_patterns() -> None:
    assert is_image_sequence("frames/%05d.png") and is_image_sequence("a/%d.JPG")
    assert not is_image_sequence("clip.mp4") and not is_image_sequence("100%.png.mp4")
