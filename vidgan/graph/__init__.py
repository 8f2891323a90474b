"""Filter chains: parsing (``spec``), the filter registry, libavfilter stages and the pipeline."""

from vidgan.graph.pipeline import Pipeline
from vidgan.graph.registry import build_options, filter_names, register_filter
from vidgan.graph.spec import FilterCall, parse_args, parse_chain
from vidgan.graph.stage import Stage, StageContext

__all__ = [
    "FilterCall",
    "Pipeline",
    "Stage",
    "StageContext",
    "build_options",
    "filter_names",
    "parse_args",
    "parse_chain",
    "register_filter",
]
