"""vidgan: GAN-based video stylization and frame interpolation, one forward pass per frame.

The public API mirrors the command line: :func:`transcode` is ``vidgan run``, and a
:class:`Pipeline` built from a ``-vf`` chain can be fed frames by any front end.
"""

from __future__ import annotations

__version__ = "0.1.0"

from vidgan.errors import VidganError
from vidgan.frame import Frame
from vidgan.graph import Pipeline, Stage, StageContext, register_filter

__all__ = ["Frame", "Pipeline", "Stage", "StageContext", "VidganError", "__version__", "register_filter", "transcode"]


def __getattr__(name: str):
    if name == "transcode":
        from vidgan.engine import transcode

        return transcode
    raise AttributeError(f"module 'vidgan' has no attribute {name!r}")
