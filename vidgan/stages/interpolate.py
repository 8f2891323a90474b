"""``interpolate``: new frames between the real ones, timed from the input's own timestamps.

Two ways to ask: ``factor=N`` puts N-1 frames evenly between each pair of input frames (at their
actual timestamps, so a variable-rate input stays variable and in sync: N(F-1)+1 frames from F),
and ``fps=R`` gives a constant R frames per second, each output frame synthesised at its exact
time between the two input frames around it (variable-rate in, constant-rate out, audio in sync).
A scene cut between two frames repeats the earlier frame instead of morphing across the cut.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from vidgan.errors import FilterOptionError, InterpolateError, VidganError
from vidgan.frame import Frame
from vidgan.graph.registry import register_filter
from vidgan.graph.stage import Stage, StageContext
from vidgan.models.flow import DIS_MIN_SHORT_SIDE
from vidgan.options import check_options, option

if TYPE_CHECKING:
    import numpy as np
    import torch


@register_filter("interpolate")
class InterpolateStage(Stage):
    """Interpolate frames (flow-based) to a higher frame rate, by factor or to a target fps."""

    one_to_one = False

    @dataclass(frozen=True)
    class Options:
        factor: int = option(2, min=2, help="output frames per input frame (ignored with fps)")
        fps: str = option("", help="constant output rate, e.g. 60 or 60000/1001")
        model: str = option("dis", help="dis (classical), refine or refine-full (dis + a trained correction), "
                                         "lite, full or a .safetensors path")
        scale: int = option(0, min=0, help="short side in px that motion is estimated at; 0: the model's own "
                                           "(dis 360, refine 180: its network runs at that scale too)")
        scene: bool = option(True, help="repeat frames across scene cuts instead of morphing")
        dedupe: float = option(0.0, min=0.0, help=(
            "drop repeated frames (animation) before interpolating: mean luma change below this "
            "counts as a repeat, e.g. 0.004; needs fps"))

        def __post_init__(self) -> None:
            check_options(self)
            if self.fps:
                rate = _parse_rate(self.fps)
                if rate is None or rate <= 0:
                    raise ValueError(f"fps must be a positive number or ratio like 60000/1001; got {self.fps!r}")
            if 0 < self.scale < DIS_MIN_SHORT_SIDE:
                raise ValueError(f"scale must be 0 (the model's own) or >= {DIS_MIN_SHORT_SIDE}; got {self.scale}")
            if self.dedupe >= 1.0:
                raise ValueError(f"dedupe must be in [0, 1) (0: off); got {self.dedupe}")
            if self.dedupe and not self.fps:
                raise ValueError("dedupe needs fps=R: without repeats the frames are unevenly spaced, "
                                 "and only a constant output rate fills the gaps evenly")

    def __init__(self, options: Options, context: StageContext) -> None:
        import torch

        from vidgan.models.interp import get_interpolator
        from vidgan.models.scenecut import SceneCutDetector

        self.options = options
        self.device = torch.device(context.device)
        try:
            scale = {"max_short_side": options.scale} if options.scale else {}
            self.model = get_interpolator(options.model, **scale)
        except VidganError as exc:
            raise FilterOptionError(f"interpolate: {exc}") from None
        self.rate = _parse_rate(options.fps) if options.fps else None
        self.scene_cuts = SceneCutDetector() if options.scene else None
        self._input_rate: Fraction | None = None
        self._previous: tuple[Frame, torch.Tensor, Fraction] | None = None
        self._frames_in = 0
        self._last_time: Fraction | None = None  # of the last input frame, kept or dropped
        self._thumbnail: np.ndarray | None = None  # dedupe: luma thumbnail of the last kept frame
        self.dropped = 0  # dedupe: repeated frames left out
        self._next_index = 0  # fps mode: index of the next output frame on the grid
        self._grid_start: int | None = None  # fps mode: grid index of the first frame's time

    def describe(self) -> str:
        how = f"fps={self.options.fps}" if self.rate else f"factor={self.options.factor}"
        scale = f", scale={self.options.scale}" if self.options.scale else ""
        return f"interpolate({how}, model={self.options.model}{scale})"

    def set_input_rate(self, frame_rate: Fraction | None) -> None:
        self._input_rate = frame_rate
        if self.rate is not None and frame_rate and self.rate < frame_rate:
            raise FilterOptionError(
                f"interpolate: fps={self.options.fps} is below the input's {float(frame_rate):g} fps; "
                f"interpolation only adds frames (to drop frames use -vf fps={self.options.fps})"
            )

    def output_rate(self, input_rate: Fraction | None) -> Fraction | None:
        if self.rate is not None:
            return self.rate
        return None if input_rate is None else input_rate * self.options.factor

    # -- timing ----------------------------------------------------------------------------------
    def _time(self, frame: Frame) -> Fraction:
        if frame.pts is None:  # no timestamps: the nominal rate, or 25 fps
            return Fraction(self._frames_in) / (self._input_rate or 25)
        return frame.pts * frame.time_base

    def process(self, frame: Frame) -> list[Frame]:
        import torch

        tensor = frame.to_tensor(self.device)
        when = self._time(frame)
        self._frames_in += 1
        if self._last_time is not None and when <= self._last_time:
            raise InterpolateError(
                f"interpolate: timestamps go backwards or repeat at {float(when):.3f} s; "
                "remux the input or use fps= to resample it"
            )
        self._last_time = when
        if self.options.dedupe and self._is_repeat(tensor):
            self.dropped += 1
            return []
        cut = False
        if self.scene_cuts is not None:
            cut = self.scene_cuts.is_cut(tensor)
        previous, self._previous = self._previous, (frame, tensor, when)
        if previous is None:
            return self._first(frame, when)
        frame0, tensor0, time0 = previous
        if tensor.shape != tensor0.shape:
            raise InterpolateError(
                f"interpolate: the frame size changed from {tensor0.shape[-1]}x{tensor0.shape[-2]} to "
                f"{tensor.shape[-1]}x{tensor.shape[-2]} at {float(when):.3f} s; add -vf scale=W:H before it"
            )
        with torch.no_grad():
            if self.rate is None:
                return self._between_by_factor(frame0, tensor0, frame, tensor, cut)
            return self._between_on_grid(frame0, tensor0, time0, tensor, when, cut)

    def flush(self) -> list[Frame]:
        if self._frames_in == 1:
            raise InterpolateError("interpolate: the input has a single frame; there is nothing to interpolate between")
        if self._previous is None or self.rate is None:
            return []
        # fps mode: the last input frame holds for one input frame's duration (one output frame's
        # when the input's rate is unknown), as it did in the input
        frame, tensor, _ = self._previous
        assert self._last_time is not None
        end = self._last_time + 1 / (self._input_rate or self.rate)
        out = []
        while self._grid_time(self._next_index) < end:
            out.append(self._emit_grid(frame, tensor))
        return out

    def _is_repeat(self, tensor: torch.Tensor) -> bool:
        """Whether ``tensor`` repeats the last kept frame (mean luma change on a 64 px thumbnail)."""
        import numpy as np

        from vidgan.io.images import short_side_size
        from vidgan.models.motion import downscaled_luma

        height, width = tensor.shape[-2:]
        small_width, small_height = short_side_size(width, height, 64)
        thumbnail = downscaled_luma(tensor, (small_height, small_width))
        previous, self._thumbnail = self._thumbnail, thumbnail
        if previous is None or previous.shape != thumbnail.shape:
            return False
        if float(np.mean(np.abs(thumbnail - previous))) < self.options.dedupe:
            self._thumbnail = previous  # compare the next frame with the kept one, not the repeat
            return True
        return False

    def _first(self, frame: Frame, when: Fraction) -> list[Frame]:
        if self.rate is None:
            factor = self.options.factor
            pts = None if frame.pts is None else frame.pts * factor
            return [frame.with_timing(pts, frame.time_base / factor)]
        self._grid_start = math.ceil(when * self.rate)
        self._next_index = 0
        return []  # emitted on the grid once the next frame (or the end) arrives

    def _between_by_factor(self, frame0: Frame, tensor0: torch.Tensor, frame1: Frame, tensor1: torch.Tensor,
                           cut: bool) -> list[Frame]:
        factor = self.options.factor
        time_base = frame1.time_base / factor
        if frame0.pts is None or frame1.pts is None:
            stamps: list[int | None] = [None] * factor
        else:
            if frame0.time_base != frame1.time_base:
                raise InterpolateError("interpolate: the time base changed mid-stream")
            span = frame1.pts - frame0.pts
            stamps = [frame0.pts * factor + k * span for k in range(1, factor + 1)]
        pair = None if cut else self.model.prepare(tensor0, tensor1)
        out: list[Frame] = []
        for k in range(1, factor):
            image = tensor0 if pair is None else self.model.synthesize(pair, k / factor)
            out.append(frame1.with_tensor(image).with_timing(stamps[k - 1], time_base))
        out.append(frame1.with_timing(stamps[-1], time_base))
        return out

    def _grid_time(self, index: int) -> Fraction:
        assert self._grid_start is not None and self.rate is not None
        return (self._grid_start + index) / self.rate

    def _emit_grid(self, like: Frame, image: torch.Tensor) -> Frame:
        assert self._grid_start is not None and self.rate is not None
        pts = self._grid_start + self._next_index
        self._next_index += 1
        return like.with_tensor(image).with_timing(pts, 1 / self.rate)

    def _between_on_grid(self, frame0: Frame, tensor0: torch.Tensor, time0: Fraction, tensor1: torch.Tensor,
                         time1: Fraction, cut: bool) -> list[Frame]:
        out: list[Frame] = []
        pair = None
        while self._grid_time(self._next_index) < time1:
            when = self._grid_time(self._next_index)
            t = float((when - time0) / (time1 - time0))
            if t <= 0.0 or cut:
                image = tensor0
            else:
                if pair is None:
                    pair = self.model.prepare(tensor0, tensor1)
                image = self.model.synthesize(pair, t)
            out.append(self._emit_grid(frame0, image))
        return out


def _parse_rate(text: str) -> Fraction | None:
    try:
        rate = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    return rate.limit_denominator(1_000_000)
