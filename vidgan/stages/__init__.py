"""vidgan's own filters (the names a ``-vf`` chain can use); importing registers them."""

from vidgan.stages import interpolate, null, stylize  # noqa: F401
