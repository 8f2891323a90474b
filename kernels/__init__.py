"""vidgan's fused kernels, shipped as ``vidgan.kernels``: ``cpu`` (Numba) and ``cuda`` (CuPy + *.cu).

Import them through :mod:`vidgan.ops`, which validates inputs and picks the backend by device.
"""
