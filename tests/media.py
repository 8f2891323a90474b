"""Tiny media files made in-process with PyAV, and readers that say what a file holds.

Every builder writes into the folder it is given (a test's ``tmp_path``) and returns the path.
Clips are small (160x120, a second or two) so the whole suite stays fast on two cores.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import av.video.frame
import numpy as np

SIZE = (160, 120)
RATE = 25
SAMPLE_RATE = 48000
BT601, LIMITED = 6, 1  # AVColorSpace SMPTE170M, AVColorRange MPEG
#: Irregular frame durations in ms for the VFR clip (the kind a phone camera writes).
VFR_GAPS_MS = (40, 40, 17, 83, 33, 50, 20, 120, 40, 41, 39, 66, 34)


def pattern_frames(size: tuple[int, int] = SIZE, frames: int = 50, rate: int = RATE) -> list[av.VideoFrame]:
    """``frames`` RGB frames of FFmpeg's moving testsrc2 pattern (colour bars, a gradient and a clock)."""
    width, height = size  # rgb24, so odd sizes stay odd (testsrc2's YUV output rounds them down)
    spec = f"testsrc2=size={width}x{height}:rate={rate}:duration={frames / rate},format=rgb24"
    with av.open(spec, format="lavfi") as src:
        return list(src.decode(video=0))[:frames]


def to_yuv(frame: av.VideoFrame, pix_fmt: str = "yuv420p") -> av.VideoFrame:
    """An RGB frame as limited-range BT.601 YUV, tagged so (swscale would keep the RGB frame's tags)."""
    yuv = frame.reformat(format=pix_fmt, dst_colorspace=BT601, dst_color_range=LIMITED)
    yuv.colorspace, yuv.color_range = BT601, LIMITED
    return yuv


def pattern_yuv(size: tuple[int, int] = (64, 48), pix_fmt: str = "yuv420p") -> av.VideoFrame:
    """One test-pattern frame as limited-range BT.601 YUV."""
    return to_yuv(pattern_frames(size, 1)[0], pix_fmt)


def yuv_frame(y: np.ndarray, u: np.ndarray, v: np.ndarray, pix_fmt: str) -> av.VideoFrame:
    """A planar YUV frame holding exactly these planes."""
    frame = av.VideoFrame(y.shape[1], y.shape[0], pix_fmt)
    for plane, values in zip(frame.planes, (y, u, v)):
        padded = np.zeros((values.shape[0], plane.line_size // values.itemsize), values.dtype)
        padded[:, : values.shape[1]] = values
        plane.update(padded.tobytes())
    return frame


def sine(seconds: float, rate: int = SAMPLE_RATE) -> list[av.AudioFrame]:
    with av.open(f"sine=frequency=440:sample_rate={rate}:duration={seconds}", format="lavfi") as src:
        return list(src.decode(audio=0))


def write_video(
    path: Path,
    *,
    size: tuple[int, int] = SIZE,
    frames: int = 50,
    pts_ms: list[int] | None = None,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    audio_seconds: float | None = None,
    options: dict[str, str] | None = None,
) -> Path:
    """Encode the test pattern (and a sine tone as AAC when ``audio_seconds`` is given).

    With ``pts_ms`` the frames get those timestamps in a 1/1000 time base (a VFR clip);
    otherwise they are ``RATE`` frames a second.
    """
    with av.open(str(path), "w", options=options or {}) as out:
        video = out.add_stream(codec, rate=RATE)
        video.width, video.height, video.pix_fmt = *size, pix_fmt
        if pts_ms is not None:
            video.codec_context.time_base = video.time_base = Fraction(1, 1000)
        audio = out.add_stream("aac", rate=SAMPLE_RATE) if audio_seconds else None
        for index, frame in enumerate(pattern_frames(size, frames)):
            frame = to_yuv(frame, pix_fmt)
            if pts_ms is not None:
                frame.pts, frame.time_base = pts_ms[index], Fraction(1, 1000)
            frame.pict_type = av.video.frame.PictureType.NONE
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if audio is not None:  # the muxer interleaves: clips are far shorter than its 10 s window
            for piece in sine(audio_seconds):
                piece.pts = None
                for packet in audio.encode(piece):
                    out.mux(packet)
            for packet in audio.encode(None):
                out.mux(packet)
    return path


def cfr_clip(folder: Path, name: str = "cfr.mp4", frames: int = 50) -> Path:
    """2 s of 160x120 H.264 at 25 fps with 2 s of AAC."""
    return write_video(folder / name, frames=frames, audio_seconds=frames / RATE)


def vfr_pts_ms(frames: int = 24) -> list[int]:
    pts, now = [], 0
    for index in range(frames):
        pts.append(now)
        now += VFR_GAPS_MS[index % len(VFR_GAPS_MS)]
    return pts


def vfr_clip(folder: Path, name: str = "vfr.mkv") -> Path:
    """24 H.264 frames with irregular timestamps (1 ms time base) and AAC audio."""
    pts = vfr_pts_ms()
    return write_video(folder / name, frames=len(pts), pts_ms=pts, audio_seconds=(pts[-1] + 40) / 1000)


def ten_bit_clip(folder: Path) -> Path:
    return write_video(folder / "ten_bit.mp4", frames=10, pix_fmt="yuv420p10le")


def odd_size_clip(folder: Path) -> Path:
    """161x121 yuv420p in lossless FFV1, which (unlike H.264) stores odd sizes."""
    return write_video(folder / "odd.mkv", size=(161, 121), frames=5, codec="ffv1")


def audio_only(folder: Path) -> Path:
    path = folder / "tone.m4a"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=SAMPLE_RATE)
        for piece in sine(0.5):
            piece.pts = None
            for packet in stream.encode(piece):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def truncated_mp4(folder: Path, keep: float = 0.6) -> Path:
    """An mp4 with its index (moov) first, cut to ``keep`` of its size: frames go missing at the end."""
    whole = write_video(folder / "whole.mp4", frames=100, options={"movflags": "faststart"})
    data = whole.read_bytes()
    whole.unlink()
    path = folder / "truncated.mp4"
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def y4m_header(folder: Path, width: int, height: int, name: str = "huge.y4m") -> Path:
    """A YUV4MPEG2 stream whose header claims ``width`` x ``height``, followed by a few bytes."""
    path = folder / name
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F25:1 C420jpeg\nFRAME\n".encode() + bytes(64))
    return path


# -- readers -----------------------------------------------------------------------------------
def video_times(path: Path) -> list[float]:
    """Presentation time in seconds of every decoded video frame, in output order."""
    with av.open(str(path)) as container:
        return [float(frame.pts * frame.time_base) for frame in container.decode(video=0)]


def planes(frame: av.VideoFrame) -> list[np.ndarray]:
    """The Y, U and V planes of a planar YUV frame as 2-D arrays (line padding cut off)."""
    dtype = np.uint16 if frame.format.components[0].bits > 8 else np.uint8
    out = []
    for plane in frame.planes:
        raw = np.frombuffer(plane, dtype=dtype).reshape(plane.height, plane.line_size // np.dtype(dtype).itemsize)
        out.append(raw[:, : plane.width])
    return out


def video_frames(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


def video_frames_rgb(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def audio_packets(path: Path) -> list[tuple[float, bytes]]:
    """(pts in seconds, payload) of every audio packet, in file order."""
    with av.open(str(path)) as container:
        return [
            (float(packet.pts * packet.time_base), bytes(packet))
            for packet in container.demux(audio=0)
            if packet.size
        ]


def audio_span(path: Path) -> tuple[float, float]:
    """(start, duration) in seconds of the decoded audio: first sample's time and samples / rate."""
    with av.open(str(path)) as container:
        frames = list(container.decode(audio=0))
    assert frames, f"{path} has no decodable audio"
    start = float(frames[0].pts * frames[0].time_base)
    return start, sum(f.samples for f in frames) / frames[0].sample_rate


def ms(times: list[float]) -> list[int]:
    """Seconds -> whole milliseconds, for timestamp comparisons exact to 1 ms."""
    return [round(t * 1000) for t in times]
