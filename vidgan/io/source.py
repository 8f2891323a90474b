"""Open an input (file, image sequence, or ``-`` for stdin), check it, and demux + decode it.

Decoding is threaded inside libavcodec (frame and slice threads). When the pipeline runs on
CUDA and this FFmpeg build has the CUDA hwaccel, NVDEC decodes, with a software fallback for
codecs or profiles it cannot handle; which one is in use is reported in ``info.decoder``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import av.codec.hwaccel

from vidgan.errors import CorruptInputError, InputNotFoundError, UnsupportedInputError
from vidgan.frame import Frame
from vidgan.io.images import IMAGE_SUFFIXES

log = logging.getLogger("vidgan")

#: Largest frame side and area vidgan accepts (16K x 8K); larger is taken as a damaged header.
MAX_SIDE = 16384
MAX_PIXELS = 16384 * 8640

#: Suffixes of image-sequence inputs (``frames/%05d.png``): the still images, plus the film and VFX
#: formats FFmpeg's image2 demuxer decodes though OpenCV's still-image readers do not.
SEQUENCE_SUFFIXES: tuple[str, ...] = (*IMAGE_SUFFIXES, ".exr", ".dpx")


def check_resolution(width: int, height: int, what: str) -> None:
    if width <= 0 or height <= 0 or width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise UnsupportedInputError(
            f"{what} has an unsupported resolution {width}x{height} "
            f"(vidgan accepts up to {MAX_SIDE} pixels a side and {MAX_PIXELS // 1_000_000} megapixels)"
        )


@dataclass(frozen=True)
class VideoInfo:
    """What the input's video stream says about itself."""

    width: int
    height: int
    pix_fmt: str
    time_base: Fraction
    frame_rate: Fraction | None
    frames: int | None
    duration: float | None
    codec: str
    decoder: str


def is_image_sequence(url: str) -> bool:
    return "%" in url and url.lower().endswith(SEQUENCE_SUFFIXES)


def _wants_nvdec(device: str) -> bool:
    if not device.startswith("cuda") or "cuda" not in av.codec.hwaccel.hwdevices_available():
        return False
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a dependency
        return False


class VideoSource:
    """An opened input: its video stream, the audio/subtitle streams to carry, and a demuxer."""

    def __init__(
        self,
        url: str,
        *,
        device: str = "cpu",
        input_format: str | None = None,
        framerate: float | None = None,
    ) -> None:
        self.url = url
        self.display_name = "stdin" if url in ("-", "pipe:0") else url
        self.corrupt_packets = 0
        self.damage: str | None = None
        open_url, options, fmt = self._resolve(url, input_format, framerate)
        hwaccel = None
        if _wants_nvdec(device):
            hwaccel = av.codec.hwaccel.HWAccel("cuda", allow_software_fallback=True)
        try:
            # metadata_errors: a damaged or hostile file's tags are not UTF-8; replace, do not crash
            self.container = av.open(open_url, mode="r", format=fmt, options=options, hwaccel=hwaccel,
                                     metadata_errors="replace")
        except av.FFmpegError as exc:
            raise UnsupportedInputError(
                f"cannot open {self.display_name}: not a readable video ({exc.strerror})"
            ) from None
        except OSError as exc:
            raise UnsupportedInputError(f"cannot open {self.display_name}: {exc.strerror or exc}") from None
        if not self.container.streams.video:
            self.container.close()
            raise UnsupportedInputError(f"{self.display_name} has no video stream")
        self.video = self.container.streams.video[0]
        self.video.thread_type = "AUTO"
        self.side_streams = [s for s in self.container.streams if s.type in ("audio", "subtitle")]
        self._hw_requested = hwaccel is not None
        self.info = self._probe(self._hw_requested)
        check_resolution(self.info.width, self.info.height, self.display_name)

    @staticmethod
    def _resolve(
        url: str, input_format: str | None, framerate: float | None
    ) -> tuple[str, dict[str, str], str | None]:
        options: dict[str, str] = {}
        if url in ("-", "pipe:0"):
            return "pipe:0", options, input_format
        if is_image_sequence(url):
            folder = os.path.dirname(url) or "."
            if not os.path.isdir(folder):
                raise InputNotFoundError(f"input folder {folder} does not exist")
            options["framerate"] = str(framerate or 25)
            return url, options, input_format or "image2"
        if not os.path.exists(url):
            raise InputNotFoundError(f"input {url} does not exist")
        if os.path.isdir(url):
            raise UnsupportedInputError(f"input {url} is a folder, not a video (for frames use e.g. {url}/%05d.png)")
        if os.path.getsize(url) == 0:
            raise UnsupportedInputError(f"input {url} is empty (0 bytes)")
        return url, options, input_format

    def _probe(self, hw: bool) -> VideoInfo:
        stream = self.video
        ctx = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        duration = None
        if stream.duration is not None and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif self.container.duration:
            duration = self.container.duration / av.time_base
        frames = stream.frames or (int(round(duration * rate)) if duration and rate else None)
        decoder = f"{ctx.name} via NVDEC (software fallback allowed)" if hw else f"{ctx.name} (software, {os.cpu_count()} threads)"
        return VideoInfo(
            width=ctx.width,
            height=ctx.height,
            pix_fmt=ctx.format.name if ctx.format is not None else "unknown",
            time_base=Fraction(stream.time_base) if stream.time_base else Fraction(1, 25),
            frame_rate=Fraction(rate) if rate else None,
            frames=frames or None,
            duration=duration,
            codec=ctx.name,
            decoder=decoder,
        )

    def _note_damage(self, message: str) -> None:
        self.corrupt_packets += 1
        if self.damage is None:
            self.damage = message
            # reported once at the end by the engine: an error, or a warning with --allow-corrupt
            log.info("%s: %s", self.display_name, message)

    def demux(self) -> Iterator[Frame | av.Packet]:
        """Decoded video frames and raw side-stream packets, in file order.

        Damaged packets are skipped and counted (``corrupt_packets``); a demuxer error ends the
        stream early and is remembered in ``damage``. Callers decide whether that is fatal.
        """
        video_index = self.video.index
        packets = self.container.demux([self.video, *self.side_streams])
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.FFmpegError as exc:
                self._note_damage(f"stream ends early: {exc.strerror}")
                break
            if packet.is_corrupt:  # e.g. cut short by a truncated file; the demuxer itself does not fail
                self._note_damage(f"truncated or damaged {packet.stream.type} packet at {packet.pts}")
            if packet.stream.index != video_index:
                if packet.size:
                    yield packet
                continue
            try:
                frames = self.video.decode(packet)  # what packet.decode() does, typed as video frames
            except av.FFmpegError as exc:
                self._note_damage(f"undecodable video packet at {packet.pts}: {exc.strerror}")
                continue
            for decoded in frames:
                if self._hw_requested:
                    self._hw_requested = False  # report once, on the first frame
                    used = "NVDEC" if self.video.codec_context.is_hwaccel else "the software decoder (NVDEC cannot take this stream)"
                    log.info("%s: decoding with %s", self.display_name, used)
                check_resolution(decoded.width, decoded.height, f"a frame of {self.display_name}")
                if decoded.is_corrupt:
                    self._note_damage("damaged video frame (decoded with concealment)")
                yield Frame.from_av(decoded)

    def raise_if_damaged(self, frames_decoded: int) -> None:
        if self.damage is not None:
            raise CorruptInputError(
                f"{self.display_name} is damaged ({self.damage}; {self.corrupt_packets} bad packet(s), "
                f"{frames_decoded} frame(s) decoded); pass --allow-corrupt to keep what decoded"
            )
        if frames_decoded == 0:
            raise UnsupportedInputError(f"{self.display_name} contains no decodable video frames")

    def close(self) -> None:
        self.container.close()
