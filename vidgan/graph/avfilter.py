"""libavfilter filters as a pipeline stage, run in-process through ``av.filter.Graph``.

Consecutive libavfilter filters of a chain share one graph, so ``scale,eq,hflip`` costs one
push and one pull per frame. The graph is built on the first frame (its size, format and time
base configure the buffer source) and rebuilt when the input changes size or format mid-stream.
"""

from __future__ import annotations

from fractions import Fraction

import av
import av.filter

from vidgan.errors import FilterOptionError, UnknownFilterError, did_you_mean
from vidgan.frame import (
    COLORSPACE_BT470BG,
    COLORSPACE_BT709,
    COLORSPACE_BT2020_NCL,
    COLORSPACE_SMPTE170M,
    RANGE_FULL,
    RANGE_LIMITED,
    ColorInfo,
    Frame,
)
from vidgan.graph.spec import FilterCall
from vidgan.graph.stage import Stage, StageContext

# Filters that only make sense with their own inputs/outputs or would pull from outside.
#: libav colour enums (as ColorInfo holds them) -> the buffer source's option values.
_COLORSPACE_NAMES = {COLORSPACE_BT709: "bt709", COLORSPACE_BT470BG: "bt470bg", COLORSPACE_SMPTE170M: "smpte170m",
                     COLORSPACE_BT2020_NCL: "bt2020nc"}
_RANGE_NAMES = {RANGE_LIMITED: "tv", RANGE_FULL: "pc"}
_NOT_CHAINABLE = {"buffer", "buffersink", "abuffer", "abuffersink", "movie", "amovie", "split", "asplit"}


def libav_filter_names() -> set[str]:
    return {name for name in av.filter.filters_available if name not in _NOT_CHAINABLE}


def validate_call(call: FilterCall) -> None:
    """Fail now, not on the first frame, for unknown libavfilter names or options."""
    if call.name in _NOT_CHAINABLE or call.name not in av.filter.filters_available:
        raise UnknownFilterError(call.name)
    filt = av.filter.Filter(call.name)
    inputs, outputs = filt.inputs, filt.outputs  # type: ignore[attr-defined]  # not in PyAV's stubs
    if len(inputs) != 1 or len(outputs) != 1:
        raise FilterOptionError(
            f"libavfilter filter {call.name!r} is not a one-input, one-output video filter; "
            "only linear video chains are supported"
        )
    probe = av.filter.Graph()
    try:
        probe.add(call.name, call.args or None)
    except av.FFmpegError as exc:
        raise FilterOptionError(
            f"libavfilter filter {call.name!r} rejected {call.args!r}: {exc.strerror} "
            f"(its options: ffmpeg -h filter={call.name})"
        ) from None


class LibavFilterStage(Stage):
    """A run of libavfilter filters applied to each frame."""

    one_to_one = False  # fps, select, tblend... may add, drop or delay frames

    def __init__(self, calls: list[FilterCall], context: StageContext | None = None) -> None:
        for call in calls:
            validate_call(call)
        self.calls = calls
        self._frame_rate = context.frame_rate if context is not None else None
        self._graph: av.filter.Graph | None = None
        self._key: tuple | None = None
        self._color: ColorInfo | None = None

    def set_input_rate(self, frame_rate: Fraction | None) -> None:
        self._frame_rate = frame_rate

    def describe(self) -> str:
        return "libavfilter(" + ",".join(str(c) for c in self.calls) + ")"

    def _build(self, frame: av.VideoFrame, time_base: Fraction, color: ColorInfo) -> None:
        graph = av.filter.Graph()
        sar: Fraction = getattr(frame, "sample_aspect_ratio", None) or Fraction(1, 1)  # not every PyAV has it
        source_args = (
            f"video_size={frame.width}x{frame.height}:pix_fmt={frame.format.name}"
            f":time_base={time_base.numerator}/{time_base.denominator}"
            f":pixel_aspect={sar.numerator}/{sar.denominator}"
        )
        # Without these the buffer source calls the input's matrix and range unknown, and a format
        # conversion the graph inserts (packed YUYV -> planar, say) shifts the levels.
        if color.colorspace in _COLORSPACE_NAMES:
            source_args += f":colorspace={_COLORSPACE_NAMES[color.colorspace]}"
        if color.color_range in _RANGE_NAMES and not frame.format.name.startswith(("rgb", "bgr", "gbr")):
            source_args += f":range={_RANGE_NAMES[color.color_range]}"
        if self._frame_rate:  # tpad, minterpolate, framerate... time the frames they add with it
            source_args += f":frame_rate={self._frame_rate.numerator}/{self._frame_rate.denominator}"
        node = graph.add("buffer", source_args)
        self._source = node
        for call in self.calls:
            nxt = graph.add(call.name, call.args or None)
            node.link_to(nxt)
            node = nxt
        sink = graph.add("buffersink")
        node.link_to(sink)
        try:
            graph.configure()
        except av.FFmpegError as exc:
            chain = ",".join(str(c) for c in self.calls)
            raise FilterOptionError(f"cannot configure filter chain {chain!r}: {exc.strerror}") from None
        self._graph, self._sink = graph, sink
        self._key = (frame.width, frame.height, frame.format.name, time_base)

    def _drain(self) -> list[Frame]:
        out: list[Frame] = []
        while True:
            try:
                result = self._sink.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return out
            assert isinstance(result, av.VideoFrame)  # a video buffersink gives video frames
            out.append(Frame.from_av(result, color=self._color))

    def process(self, frame: Frame) -> list[Frame]:
        av_frame = frame.to_av()
        key = (av_frame.width, av_frame.height, av_frame.format.name, frame.time_base)
        flushed: list[Frame] = []
        if self._key != key:
            if self._graph is not None:
                flushed = self.flush()
            self._build(av_frame, frame.time_base, frame.color)
        self._color = frame.color
        av_frame.pts, av_frame.time_base = frame.pts, frame.time_base
        self._source.push(av_frame)
        return flushed + self._drain()

    def flush(self) -> list[Frame]:
        if self._graph is None:
            return []
        self._source.push(None)
        out = self._drain()
        self._graph, self._key = None, None
        return out


def unknown_filter_message(name: str, vidgan_names: list[str]) -> str:
    candidates = vidgan_names + sorted(libav_filter_names())
    return (
        f"unknown filter {name!r}{did_you_mean(name, candidates)}; vidgan filters: {', '.join(vidgan_names)}; "
        "or any libavfilter video filter (list them with: ffmpeg -filters)"
    )
