"""vidgan's own filters (the names a ``-vf`` chain can use); importing registers them."""

from vidgan.stages import null, stylize  # noqa: F401
