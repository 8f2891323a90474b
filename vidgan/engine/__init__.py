"""What runs a job: decode -> pipeline -> encode on overlapped threads (:func:`transcode`), and many
jobs at once, resumable (:func:`run_batch`)."""

from vidgan.device import resolve_device
from vidgan.engine.transcoder import RunReport, run_pipeline, transcode

__all__ = ["RunReport", "resolve_device", "run_pipeline", "transcode"]
