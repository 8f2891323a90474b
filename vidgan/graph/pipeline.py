"""Pipeline: a chain of stages built from a ``-vf`` spec, run frame by frame.

The pipeline itself is synchronous and front-end agnostic; :mod:`vidgan.engine` overlaps it
with decoding and encoding, the frei0r adapter calls it once per frame, and ``vidgan serve``
feeds it frames from shared memory.
"""

from __future__ import annotations

from fractions import Fraction

from vidgan.errors import UnknownFilterError
from vidgan.frame import Frame
from vidgan.graph.avfilter import LibavFilterStage, libav_filter_names, unknown_filter_message
from vidgan.graph.registry import create_stage, filter_names, get_filter
from vidgan.graph.spec import FilterCall, parse_args, parse_chain
from vidgan.graph.stage import Stage, StageContext


class Pipeline:
    """Stages applied in order; frames a stage emits go straight on to the next one."""

    def __init__(self, stages: list[Stage]) -> None:
        self.stages = stages
        self.output_rate: Fraction | None = None
        """Nominal rate of what the pipeline emits; known after :meth:`set_input_rate`."""

    @classmethod
    def from_chain(cls, chain: str, context: StageContext | None = None) -> Pipeline:
        """Build from ``-vf`` text; vidgan filters win over libavfilter filters of the same name."""
        context = context or StageContext()
        stages: list[Stage] = []
        pending_libav: list[FilterCall] = []
        libav_names = libav_filter_names()
        for call in parse_chain(chain):
            if get_filter(call.name) is not None:
                if pending_libav:
                    stages.append(LibavFilterStage(pending_libav, context))
                    pending_libav = []
                stages.append(create_stage(call.name, parse_args(call.args), context))
            elif call.name in libav_names:
                pending_libav.append(call)
            else:
                raise UnknownFilterError(unknown_filter_message(call.name, filter_names()))
        if pending_libav:
            stages.append(LibavFilterStage(pending_libav, context))
        return cls(stages)

    def set_input_rate(self, frame_rate: Fraction | None) -> None:
        """Pass the input's nominal rate to the stages; the pipeline can be built before the input is open."""
        for stage in self.stages:
            stage.set_input_rate(frame_rate)
            frame_rate = stage.output_rate(frame_rate)
        self.output_rate = frame_rate

    @property
    def one_to_one(self) -> bool:
        return all(stage.one_to_one for stage in self.stages)

    def frame_count_changers(self) -> list[Stage]:
        """The vidgan stages that add or drop frames; libavfilter runs can only be checked per frame."""
        return [s for s in self.stages if not s.one_to_one and not isinstance(s, LibavFilterStage)]

    def describe(self) -> str:
        return " -> ".join(stage.describe() for stage in self.stages) or "(empty)"

    def _run_from(self, index: int, frames: list[Frame]) -> list[Frame]:
        for stage in self.stages[index:]:
            produced: list[Frame] = []
            for frame in frames:
                produced.extend(stage.process(frame))
            frames = produced
            if not frames:
                break
        return frames

    def process(self, frame: Frame) -> list[Frame]:
        return self._run_from(0, [frame])

    def flush(self) -> list[Frame]:
        """End of stream: flush each stage in order, passing what it releases through the rest."""
        out: list[Frame] = []
        for index, stage in enumerate(self.stages):
            out.extend(self._run_from(index + 1, stage.flush()))
        return out
