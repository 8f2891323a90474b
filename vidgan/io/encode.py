"""Encode frames and mux them with the input's audio and subtitle streams.

Audio and subtitles are copied packet for packet when the output container can hold their
codec; audio it cannot hold is re-encoded (AAC, or the container's default) with a warning,
subtitles it cannot hold are dropped with a warning. The encoder keeps the input stream's time
base, so variable-frame-rate timestamps pass through unquantised and stay in sync with audio;
rotation and colour tags (primaries, transfer, matrix, range) are written back unchanged.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import av.codec.codec
import av.video.frame
from av.audio.stream import AudioStream
from av.stream import Stream
from av.video.stream import VideoStream

from vidgan.errors import EncodeError, OutputError
from vidgan.frame import RANGE_FULL, RANGE_LIMITED, Frame
from vidgan.io.output import AtomicOutput, describe_os_error
from vidgan.io.source import VideoSource, check_resolution

log = logging.getLogger("vidgan")

# Codecs that store odd sizes in subsampled formats; the others need even width/height for 4:2:0.
_ODD_SIZE_OK = {"rawvideo", "ffv1", "ffvhuff", "huffyuv", "utvideo", "png", "qtrle"}


@dataclass(frozen=True)
class EncodeOptions:
    """Video encoder settings, named after ffmpeg's flags (``-c:v``, ``-crf``, ``-preset``...)."""

    codec: str = "libx264"
    crf: float | None = None
    preset: str | None = None
    pix_fmt: str | None = None
    bitrate: str | None = None
    container_format: str | None = None
    codec_options: dict[str, str] = field(default_factory=dict)

    def av_options(self) -> dict[str, str]:
        opts = dict(self.codec_options)
        if self.crf is not None:
            opts["crf"] = f"{self.crf:g}"
        if self.preset is not None:
            opts["preset"] = self.preset
        return opts


def parse_bitrate(text: str) -> int:
    """``4M`` -> 4000000, ``800k`` -> 800000, ``1500000`` -> 1500000."""
    units = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}
    text = text.strip().lower()
    try:
        if text and text[-1] in units:
            return int(float(text[:-1]) * units[text[-1]])
        return int(float(text))
    except ValueError:
        raise EncodeError(f"bad bitrate {text!r}; use e.g. 4M or 800k") from None


def _pick_pix_fmt(codec: av.Codec, requested: str | None, source_fmt: str) -> str:
    supported = [f.name for f in (codec.video_formats or [])]
    if requested:
        if supported and requested not in supported:
            raise EncodeError(f"{codec.name} cannot encode pixel format {requested}; it takes: {', '.join(supported)}")
        return requested
    if not supported or source_fmt in supported:
        return source_fmt
    return "yuv420p" if "yuv420p" in supported else supported[0]


class VideoSink:
    """Writes one output file (atomically) or a pipe; created before the first frame arrives."""

    def __init__(
        self,
        url: str,
        options: EncodeOptions,
        source: VideoSource,
        *,
        overwrite: bool = False,
        frame_rate: Fraction | None = None,
    ) -> None:
        self.options = options
        self.source = source
        self.frame_rate = frame_rate or source.info.frame_rate
        """The video stream's nominal rate: the pipeline's output rate (an interpolator raises it)."""
        self.frames_written = 0
        self.frames_dropped = 0
        self._pending: deque[av.Packet] = deque()
        self._video: VideoStream | None = None
        self._copied: dict[int, Stream] = {}
        """Output streams that side-stream packets are copied into, by input stream index."""
        self._reencoded: dict[int, tuple[AudioStream, AudioStream]] = {}
        """(input, output) audio streams whose packets are decoded and encoded again, by input index."""
        self._last_pts: int | None = None
        try:
            self._codec = av.Codec(options.codec, "w")
        except (av.FFmpegError, av.codec.codec.UnknownCodecError):  # the latter is a ValueError
            raise EncodeError(f"unknown video encoder {options.codec!r} (list them with: vidgan doctor)") from None
        if self._codec.type != "video":
            raise EncodeError(f"{options.codec!r} is not a video encoder")
        self._pix_fmt = _pick_pix_fmt(self._codec, options.pix_fmt, source.info.pix_fmt)
        self.atomic: AtomicOutput | None = None
        if url in ("-", "pipe:1"):
            open_url, self.display_name = "pipe:1", "stdout"
        else:
            self.atomic = AtomicOutput(url, overwrite=overwrite, inputs=(source.url,))
            open_url, self.display_name = str(self.atomic.temp_path), url
        try:
            self.container = av.open(open_url, mode="w", format=options.container_format)
        except ValueError as exc:
            raise OutputError(f"cannot choose a container for {url}: {exc}; pass -f FORMAT") from None
        except av.FFmpegError as exc:
            if self.atomic:
                self.atomic.discard()
            raise OutputError(f"cannot create {url}: {exc.strerror}") from None
        except OSError as exc:
            raise OutputError(describe_os_error(exc, self.atomic.target if self.atomic else url)) from None

    # -- setup on the first frame -----------------------------------------------------------------
    def _open_video(self, frame: Frame) -> VideoStream:
        width, height = frame.width, frame.height
        check_resolution(width, height, "the filtered video")
        pix = av.VideoFormat(self._pix_fmt)
        odd_x = pix.chroma_width(64) < 64 and width % 2
        odd_y = pix.chroma_height(64) < 64 and height % 2
        if self._codec.name not in _ODD_SIZE_OK and (odd_x or odd_y):
            raise EncodeError(
                f"cannot encode {width}x{height} as {self._pix_fmt} with {self.options.codec}: "
                "width and height must be even for chroma-subsampled formats; "
                "add -vf 'scale=trunc(iw/2)*2:trunc(ih/2)*2' or use -pix_fmt yuv444p"
            )
        stream = self.container.add_stream(self._codec.name, rate=self.frame_rate or 25)
        assert isinstance(stream, VideoStream)  # the codec was checked to be a video encoder
        ctx = stream.codec_context
        ctx.width, ctx.height, ctx.pix_fmt = width, height, self._pix_fmt
        ctx.time_base = frame.time_base
        stream.time_base = frame.time_base
        if self.frame_rate:
            ctx.framerate = self.frame_rate
        color = frame.color
        ctx.color_primaries, ctx.color_trc = color.primaries, color.trc
        ctx.colorspace, ctx.color_range = color.colorspace, color.color_range
        if self.options.bitrate:
            ctx.bit_rate = parse_bitrate(self.options.bitrate)
        ctx.thread_count = 0
        ctx.thread_type = "AUTO"  # frame threads, as the ffmpeg CLI uses (PyAV defaults to slices)
        ctx.options = self.options.av_options()
        rotation = frame.to_av().rotation if frame.has_av else 0
        if rotation:
            stream.set_display_rotation(rotation)
        self._video = stream
        self._open_side_streams()
        try:
            ctx.open()
        except av.FFmpegError as exc:
            raise EncodeError(
                f"{self._codec.name} refused the settings ({width}x{height} {self._pix_fmt}, "
                f"options {ctx.options}): {exc.strerror}"
            ) from None
        return stream

    def _open_side_streams(self) -> None:
        supported = self.container.supported_codecs
        for stream in self.source.side_streams:
            name = stream.codec_context.name
            if name in supported:
                self._copied[stream.index] = self.container.add_stream_from_template(stream)
            elif isinstance(stream, AudioStream):
                fallback = "aac" if "aac" in supported else self.container.default_audio_codec
                out = self.container.add_stream(fallback, rate=stream.codec_context.sample_rate)
                assert isinstance(out, AudioStream)  # an audio codec name makes an audio stream
                out.codec_context.layout = stream.codec_context.layout
                self._reencoded[stream.index] = (stream, out)
                log.warning(
                    "audio stream #%d (%s) cannot be stored in %s; re-encoding it to %s",
                    stream.index, name, self.container.format.name, fallback,
                )
            else:
                log.warning(
                    "%s stream #%d (%s) cannot be stored in %s; dropping it",
                    stream.type, stream.index, name, self.container.format.name,
                )

    # -- writing ----------------------------------------------------------------------------------
    def write_packet(self, packet: av.Packet) -> None:
        """Queue a side-stream packet; it is muxed once the video stream exists."""
        self._pending.append(packet)
        if self._video is not None:
            self._drain_side()

    def _drain_side(self) -> None:
        while self._pending:
            packet = self._pending.popleft()
            index = packet.stream.index
            copy_to = self._copied.get(index)
            if copy_to is not None:
                packet.stream = copy_to
                self._mux(packet)
            elif index in self._reencoded:
                source, out = self._reencoded[index]
                for decoded in source.decode(packet):
                    decoded.pts = None
                    for encoded in out.encode(decoded):
                        self._mux(encoded)

    def _mux(self, packet: av.Packet) -> None:
        try:
            self.container.mux(packet)
        except av.FFmpegError as exc:
            raise OutputError(describe_os_error(OSError(exc.errno, exc.strerror), self._target())) from None
        except OSError as exc:
            raise OutputError(describe_os_error(exc, self._target())) from None

    def _target(self) -> Path | str:
        return self.atomic.target if self.atomic else self.display_name

    def write(self, frame: Frame) -> None:
        video = self._video if self._video is not None else self._open_video(frame)
        ctx = video.codec_context
        if (frame.width, frame.height) != (ctx.width, ctx.height):
            raise EncodeError(
                f"frame size changed mid-stream from {ctx.width}x{ctx.height} to {frame.width}x{frame.height}; "
                f"add -vf scale={ctx.width}:{ctx.height} to keep one size"
            )
        pts = frame.pts
        if pts is not None and frame.time_base != ctx.time_base:
            pts = round(Fraction(pts) * frame.time_base / ctx.time_base)
        if pts is None:
            pts = 0 if self._last_pts is None else self._last_pts + 1
        if self._last_pts is not None and pts <= self._last_pts:
            self.frames_dropped += 1  # duplicate timestamp: what ffmpeg's passthrough mode drops too
            return
        self._last_pts = pts
        out = frame.to_av()
        if out.format.name != self._pix_fmt:
            full = frame.color.color_range == RANGE_FULL
            out = out.reformat(
                format=self._pix_fmt,
                dst_colorspace=frame.color.matrix_for(frame.height),
                dst_color_range=RANGE_FULL if full else RANGE_LIMITED,
            )
        out.pts, out.time_base = pts, ctx.time_base
        out.pict_type = av.video.frame.PictureType.NONE
        for packet in video.encode(out):
            self._mux(packet)
        self.frames_written += 1
        self._drain_side()

    def close(self) -> None:
        """Flush the encoder, write the trailer and move the file into place."""
        if self._video is None:
            raise EncodeError("the filter chain produced no frames; nothing to write")
        for packet in self._video.encode(None):
            self._mux(packet)
        self._drain_side()
        for _, out in self._reencoded.values():
            for packet in out.encode(None):
                self._mux(packet)
        try:
            self.container.close()
        except av.FFmpegError as exc:
            raise OutputError(describe_os_error(OSError(exc.errno, exc.strerror), self._target())) from None
        except OSError as exc:
            raise OutputError(describe_os_error(exc, self._target())) from None
        if self.atomic:
            self.atomic.commit()

    def abort(self) -> None:
        """Drop everything written so far; the target is left as it was."""
        try:
            self.container.close()
        except Exception:  # noqa: BLE001 - closing a half-written file may fail in many ways
            pass
        if self.atomic:
            self.atomic.discard()
