"""Run a pipeline over a whole input with decode, stages and encode overlapped.

Three threads joined by bounded queues: the reader demuxes and decodes, the stage thread runs
the pipeline, the writer encodes and muxes. The queues hold a few frames each, so memory stays
flat however long the video is; audio and subtitle packets go straight from the reader to the
writer, which interleaves them with the encoded video. The main thread only waits, so Ctrl-C or
SIGTERM stops the workers promptly and the partial output is removed.
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Generic, TypeVar

from vidgan.device import resolve_device
from vidgan.errors import Interrupted
from vidgan.frame import Frame
from vidgan.graph.pipeline import Pipeline
from vidgan.graph.stage import StageContext
from vidgan.io.encode import EncodeOptions, VideoSink
from vidgan.io.source import VideoSource
from vidgan.progress import Progress, ProgressMode

log = logging.getLogger("vidgan")

QUEUE_FRAMES = 8


class _End(enum.Enum):
    """The marker a worker puts after its last frame."""

    END = enum.auto()


_END: Final = _End.END
_Item = TypeVar("_Item")


class _Stopped(Exception):
    """Raised inside a worker when another worker failed or the run was interrupted."""


class _Channel(Generic[_Item]):
    """A bounded queue whose blocking calls give up once ``stop`` is set."""

    def __init__(self, stop: threading.Event, maxsize: int = QUEUE_FRAMES) -> None:
        self._queue: queue.Queue[_Item | _End] = queue.Queue(maxsize)
        self._stop = stop

    def put(self, item: _Item | _End) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stopped

    def get(self) -> _Item | _End:
        while not self._stop.is_set():
            try:
                return self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
        raise _Stopped


@dataclass(frozen=True)
class RunReport:
    """What one run did, for the CLI summary, ``--json`` and batch logs."""

    input: str
    output: str
    frames_in: int
    frames_out: int
    frames_dropped: int
    seconds: float
    decoder: str
    pipeline: str
    damaged: str | None

    @property
    def fps(self) -> float:
        return self.frames_in / self.seconds if self.seconds > 0 else 0.0


def run_pipeline(
    source: VideoSource,
    pipeline: Pipeline,
    sink: VideoSink,
    *,
    progress: Progress | None = None,
    allow_corrupt: bool = False,
) -> RunReport:
    """Drive ``source -> pipeline -> sink`` to the end; on any failure the sink is aborted."""
    stop = threading.Event()
    errors: list[BaseException] = []
    decoded: _Channel[Frame] = _Channel(stop)
    filtered: _Channel[Frame] = _Channel(stop)
    side_packets: deque = deque()  # bounded in practice: the reader is at most two queues ahead
    counts = {"in": 0, "out": 0}
    started = time.monotonic()

    def guarded(work):
        def body() -> None:
            try:
                work()
            except _Stopped:
                pass
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                errors.append(exc)
                stop.set()

        return body

    def read() -> None:
        for item in source.demux():
            if stop.is_set():
                raise _Stopped
            if isinstance(item, Frame):
                counts["in"] += 1
                decoded.put(item)
            else:
                side_packets.append(item)
        decoded.put(_END)

    def filter_frames() -> None:
        while True:
            frame = decoded.get()
            if frame is _END:
                for out in pipeline.flush():
                    filtered.put(out)
                filtered.put(_END)
                return
            for out in pipeline.process(frame):
                filtered.put(out)

    def write() -> None:
        while True:
            frame = filtered.get()
            while side_packets:
                sink.write_packet(side_packets.popleft())
            if frame is _END:
                break
            sink.write(frame)
            counts["out"] += 1
            if progress is not None:
                progress.update(counts["in"], counts["out"])
        if not allow_corrupt:
            source.raise_if_damaged(counts["in"])
        elif counts["in"] == 0:
            source.raise_if_damaged(0)
        elif source.damage is not None:
            log.warning("%s is damaged (%s); keeping the %d frame(s) that decoded",
                        source.display_name, source.damage, counts["in"])
        sink.close()

    workers = [
        threading.Thread(target=guarded(fn), name=f"vidgan-{fn.__name__}", daemon=True)
        for fn in (read, filter_frames, write)
    ]
    try:
        for worker in workers:
            worker.start()
        while any(worker.is_alive() for worker in workers):
            for worker in workers:
                worker.join(timeout=0.05)
    except KeyboardInterrupt:
        stop.set()
        for worker in workers:
            worker.join(timeout=10)
        sink.abort()
        raise Interrupted("interrupted; partial output removed") from None
    finally:
        if progress is not None:
            progress.close()
        source.close()
    if errors:
        sink.abort()
        raise errors[0]
    return RunReport(
        input=source.display_name,
        output=sink.display_name,
        frames_in=counts["in"],
        frames_out=sink.frames_written,
        frames_dropped=sink.frames_dropped,
        seconds=time.monotonic() - started,
        decoder=source.info.decoder,
        pipeline=pipeline.describe(),
        damaged=source.damage,
    )


def transcode(
    src: str | Path,
    dst: str | Path,
    *,
    chain: str = "null",
    encode: EncodeOptions | None = None,
    device: str | None = "auto",
    overwrite: bool = False,
    allow_corrupt: bool = False,
    input_format: str | None = None,
    input_fps: float | None = None,
    progress: ProgressMode = "quiet",
) -> RunReport:
    """Decode ``src``, run the ``-vf`` chain, encode to ``dst`` (``-`` for stdout). The API behind ``vidgan run``."""
    device = resolve_device(device)
    pipeline = Pipeline.from_chain(chain, StageContext(device=device))  # a bad chain fails before any I/O
    source = VideoSource(str(src), device=device, input_format=input_format, framerate=input_fps)
    try:
        pipeline.set_input_rate(source.info.frame_rate)
        sink = VideoSink(str(dst), encode or EncodeOptions(), source, overwrite=overwrite,
                         frame_rate=pipeline.output_rate)
    except BaseException:
        source.close()
        raise
    try:
        log.info("decoder: %s", source.info.decoder)
        log.info("pipeline: %s on %s", pipeline.describe(), device)
        log.info("encoder: %s", (encode or EncodeOptions()).codec)
        meter = Progress(source.info.frames, mode=progress, desc=Path(str(src)).name)
        return run_pipeline(source, pipeline, sink, progress=meter, allow_corrupt=allow_corrupt)
    except BaseException:  # including a Ctrl-C before the workers start: never leave a partial file
        sink.abort()
        source.close()
        raise
