"""Stage: one step of a pipeline, consuming frames in order and yielding frames.

A stage may keep state between frames (a recurrent stylizer keeps its previous output), hold
frames back (an interpolator needs the next frame before it can emit anything), and change
timing (new frames at a new rate). At end of stream ``flush`` returns whatever it still holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

from vidgan.frame import Frame


@dataclass(frozen=True)
class StageContext:
    """What every stage of one pipeline shares: where tensors live (a torch device string), the input's
    nominal frame rate when known (filters that add frames need it), and whether each frame's result
    is wanted at once (live front ends: OBS, cameras, frei0r) or throughput counts more than a frame
    of delay (files and pipes)."""

    device: str = "cpu"
    frame_rate: Fraction | None = None
    realtime: bool = False


class Stage:
    """Base class. Subclasses override ``process`` and, if they hold frames, ``flush``."""

    #: True when every input frame gives exactly one output frame of the same size
    #: (what the frei0r adapter requires).
    one_to_one: ClassVar[bool] = True
    #: The filter's options, a dataclass built from ``-vf`` text; every registered filter defines it.
    Options: ClassVar[type]
    #: The name the filter registry knows this stage by, set when it registers.
    filter_name: ClassVar[str]

    def __init__(self, options: Any = None, context: StageContext | None = None) -> None:
        """Registered filters are built as ``cls(options, context)``; the base keeps neither."""

    def process(self, frame: Frame) -> list[Frame]:
        raise NotImplementedError

    def flush(self) -> list[Frame]:
        return []

    def set_input_rate(self, frame_rate: Fraction | None) -> None:
        """Told the input's nominal frame rate once it is known; stages that need it override this."""

    def output_rate(self, input_rate: Fraction | None) -> Fraction | None:
        """The nominal frame rate this stage emits for an input at ``input_rate`` (the same, unless it
        adds or drops frames); the encoder's stream rate comes from the last stage's."""
        return input_rate

    def describe(self) -> str:
        return type(self).__name__
