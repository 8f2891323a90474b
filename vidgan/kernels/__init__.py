"""vidgan's fused kernels: ``cpu`` (Numba) and ``cuda`` (CuPy launchers for the ``*.cu`` sources here).

Call them through :mod:`vidgan.ops`, which validates inputs and picks the backend by device.
"""
