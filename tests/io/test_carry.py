"""What a transcode carries besides pixels: rotation, colour tags, audio it must re-encode,
subtitles, and the other input kinds (image sequences, stdin)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from vidgan.engine import transcode


def _video(path: Path, *, frames: int = 5, rotation: int = 0, color: tuple[int, int, int, int] | None = None,
           codec: str = "libx264", audio: str | None = None) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)
        if color:
            ctx = stream.codec_context
            ctx.color_primaries, ctx.color_trc, ctx.colorspace, ctx.color_range = color
        sound = out.add_stream(audio, rate=48000, layout="stereo") if audio else None
        for index in range(frames):
            frame = av.VideoFrame(64, 48, "yuv420p")
            frame.pts, frame.time_base = index, Fraction(1, 25)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
        if sound is not None:
            source = av.open(f"sine=duration={frames / 25}:sample_rate=48000", format="lavfi")
            for piece in source.decode(audio=0):
                piece.pts = None
                for packet in sound.encode(piece):
                    out.mux(packet)
            for packet in sound.encode(None):
                out.mux(packet)
    return path


def test_rotation_and_colour_tags_survive(tmp_path: Path) -> None:
    tags = (1, 1, 1, 2)  # BT.709 primaries, transfer and matrix, full range
    src = _video(tmp_path / "in.mp4", rotation=90, color=tags)
    transcode(src, tmp_path / "out.mp4")
    with av.open(str(tmp_path / "out.mp4")) as result:
        frame = next(result.decode(video=0))
        assert frame.rotation == 90
        assert (frame.color_primaries, frame.color_trc, frame.colorspace, frame.color_range) == tags


def test_audio_the_container_cannot_hold_is_reencoded_with_a_warning(tmp_path: Path, caplog) -> None:
    src = _video(tmp_path / "in.mkv", frames=25, audio="libopus")
    with caplog.at_level("WARNING", logger="vidgan"):
        transcode(src, tmp_path / "out.avi")  # AVI has no opus
    assert any("re-encoding it to aac" in r.getMessage() for r in caplog.records)
    with av.open(str(tmp_path / "out.avi")) as result:
        assert result.streams.audio[0].codec_context.name == "aac"
        decoded = sum(f.samples for f in result.decode(audio=0))
    assert abs(decoded / 48000 - 1.0) < 0.05


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="the ffmpeg binary is not installed")
def test_subtitles_copied_where_possible_dropped_with_warning_elsewhere(tmp_path: Path, caplog) -> None:
    (tmp_path / "subs.srt").write_text("1\n00:00:00,000 --> 00:00:00,150\nhello\n")
    video = _video(tmp_path / "v.mkv")
    src = tmp_path / "in.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-i", str(tmp_path / "subs.srt"),
                    "-map", "0", "-map", "1", "-c", "copy", str(src)], check=True)
    transcode(src, tmp_path / "out.mkv")
    with av.open(str(tmp_path / "out.mkv")) as result:
        assert [s.codec_context.name for s in result.streams.subtitles] in (["srt"], ["subrip"])
        payloads = [bytes(p) for p in result.demux(subtitles=0) if p.size]
    assert payloads == [b"hello"]
    with caplog.at_level("WARNING", logger="vidgan"):
        transcode(src, tmp_path / "out.mp4")
    assert any("dropping it" in r.getMessage() for r in caplog.records)


def test_image_sequence_input_uses_the_given_rate(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for index in range(1, 8):
        image = np.full((40, 60, 3), index * 30, np.uint8)
        cv2.imwrite(str(folder / f"{index:05d}.png"), image)
    transcode(str(folder / "%05d.png"), tmp_path / "out.mkv", input_fps=10,
              encode=__import__("vidgan.io.encode", fromlist=["EncodeOptions"]).EncodeOptions(codec="ffv1"))
    with av.open(str(tmp_path / "out.mkv")) as result:
        frames = list(result.decode(video=0))
    assert len(frames) == 7
    assert [round(float(f.pts * f.time_base), 3) for f in frames] == [round(i / 10, 3) for i in range(7)]
    grey = frames[3].to_ndarray(format="rgb24")
    assert abs(int(grey.mean()) - 120) <= 2


def test_stdin_input(tmp_path: Path) -> None:
    src = _video(tmp_path / "in.mkv", frames=9)
    with open(src, "rb") as stdin:
        result = subprocess.run([sys.executable, "-m", "vidgan", "run", "-", "-o", str(tmp_path / "out.mp4"), "-q"],
                                stdin=stdin, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    with av.open(str(tmp_path / "out.mp4")) as out:
        assert sum(1 for _ in out.decode(video=0)) == 9
