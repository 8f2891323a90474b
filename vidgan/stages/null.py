"""``null``: pass frames through untouched (no conversion, no copy)."""

from __future__ import annotations

from dataclasses import dataclass

from vidgan.frame import Frame
from vidgan.graph.registry import register_filter
from vidgan.graph.stage import Stage, StageContext


@register_filter("null")
class NullStage(Stage):
    """The identity filter; useful for pure transcodes and for measuring the engine itself."""

    @dataclass(frozen=True)
    class Options:
        """No knobs: ``-vf null`` takes no options."""

    def __init__(self, options: Options, context: StageContext) -> None:
        self.options = options

    def process(self, frame: Frame) -> list[Frame]:
        return [frame]
