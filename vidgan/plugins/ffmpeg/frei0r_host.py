"""The Python side of the frei0r plugin: runs a vidgan chain on the RGBA frames ffmpeg hands over.

The C plugin (``frei0r/vidgan_frei0r.c`` beside this module) makes one :class:`Frei0rHost` per
filter instance and calls :meth:`Frei0rHost.update` once per frame with memoryviews over
ffmpeg's own buffers, so the input is read without a copy and the result is written in place.
frei0r moves exactly one frame of a fixed size per call, so chains that add, drop or resize
frames are refused with a pointer to the pipe route.
"""

from __future__ import annotations

import importlib
import math
import os
from fractions import Fraction

import av
import numpy as np

from vidgan.errors import Frei0rChainError, VidganError
from vidgan.frame import Frame
from vidgan.graph.pipeline import Pipeline
from vidgan.graph.stage import StageContext

#: Fine enough that millisecond times from ffmpeg map to exact, increasing pts.
TIME_BASE = Fraction(1, 90000)
#: ffmpeg's frei0r filter passes the frame time in milliseconds (frei0r itself says seconds).
FFMPEG_TIME_SCALE = 1e-3
#: Comma-separated modules to import before a chain is built (they register extra filters).
MODULES_ENV = "VIDGAN_PLUGIN_MODULES"
#: Where model stages run: auto (CUDA when present), cpu, cuda, cuda:N.
DEVICE_ENV = "VIDGAN_DEVICE"
PIPE_ROUTE = (
    "use the pipe route instead: ffmpeg -i IN -f nut -c:v rawvideo -c:a pcm_s16le - "
    "| vidgan pipe -vf CHAIN | ffmpeg -f nut -i - -c:v libx264 OUT"
)
_DEFAULT_STEP = 3600  # 1/25 s in TIME_BASE units, for frames that come without a time

_imported_modules: set[str] = set()


def describe_error(exc: BaseException) -> str:
    """The one line the plugin prints: vidgan's own message, or the exception type and text for bugs."""
    text = str(exc) if isinstance(exc, VidganError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


def import_plugin_modules(spec: str | None = None) -> None:
    """Import the modules named in ``VIDGAN_PLUGIN_MODULES`` once, so their filters are registered."""
    spec = os.environ.get(MODULES_ENV, "") if spec is None else spec
    for name in (part.strip() for part in spec.split(",")):
        if not name or name in _imported_modules:
            continue
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise Frei0rChainError(f"{MODULES_ENV}: cannot import {name!r}: {exc}") from None
        _imported_modules.add(name)


def check_one_to_one(pipeline: Pipeline, chain: str) -> None:
    """Refuse vidgan stages that change the frame count; libavfilter runs are checked per frame."""
    changers = pipeline.frame_count_changers()
    if changers:
        raise Frei0rChainError(
            f"{changers[0].describe()} in {chain!r} adds or drops frames, but a frei0r filter gives "
            f"exactly one frame per frame; {PIPE_ROUTE}"
        )


class Frei0rHost:
    """One frei0r instance: a fixed frame size and a pipeline that lives as long as the instance."""

    def __init__(self, width: int, height: int, *, time_scale: float = FFMPEG_TIME_SCALE) -> None:
        self.width = width
        self.height = height
        self.time_scale = time_scale
        self.chain = ""
        self._pipeline: Pipeline | None = None
        self._last_pts: int | None = None

    def set_chain(self, chain: str) -> None:
        """Take a new chain; it is built on the next frame (a new chain starts with fresh state)."""
        if chain != self.chain or self._pipeline is None:
            self.chain = chain
            self._pipeline = None

    def _build(self) -> Pipeline:
        from vidgan.engine import resolve_device

        import_plugin_modules()
        device = resolve_device(os.environ.get(DEVICE_ENV, "auto"))
        pipeline = Pipeline.from_chain(self.chain, StageContext(device=device, realtime=True))
        check_one_to_one(pipeline, self.chain)
        self._pipeline = pipeline
        return pipeline

    def _pts(self, time: float) -> int:
        """Frame time -> pts in TIME_BASE, kept strictly increasing; missing times are extrapolated."""
        seconds = time * self.time_scale
        if math.isfinite(seconds) and abs(seconds) < 1e9:
            pts = round(seconds / TIME_BASE)
        else:
            pts = 0 if self._last_pts is None else self._last_pts + _DEFAULT_STEP
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1
        self._last_pts = pts
        return pts

    def update(self, time: float, src: memoryview, dst: memoryview) -> None:
        """Run one RGBA frame through the chain: ``src`` is read in place, ``dst`` written in place."""
        pipeline = self._pipeline if self._pipeline is not None else self._build()
        shape = (self.height, self.width, 4)
        src_rgba = np.frombuffer(src, dtype=np.uint8).reshape(shape)
        dst_rgba = np.frombuffer(dst, dtype=np.uint8).reshape(shape)

        video = av.VideoFrame.from_ndarray(src_rgba[..., :3], format="rgb24")
        video.pts, video.time_base = self._pts(time), TIME_BASE
        produced = pipeline.process(Frame.from_av(video))
        if len(produced) != 1:
            raise Frei0rChainError(
                f"{self.chain!r} gave {len(produced)} frames for one input frame, but a frei0r filter "
                f"gives exactly one (filters such as fps, select or tmix change the count); {PIPE_ROUTE}"
            )
        rgb = produced[0].to_rgb24()
        if rgb.shape != shape[:2] + (3,):
            raise Frei0rChainError(
                f"{self.chain!r} turns {self.width}x{self.height} frames into {rgb.shape[1]}x{rgb.shape[0]}, "
                f"but a frei0r filter keeps the frame size; scale outside it (-vf frei0r=...,scale=W:H) or {PIPE_ROUTE}"
            )
        dst_rgba[..., :3] = rgb
        dst_rgba[..., 3] = src_rgba[..., 3]
