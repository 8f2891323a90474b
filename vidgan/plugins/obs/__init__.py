"""The OBS Studio filter: a thin C client of ``vidgan serve`` (CMake project) and its builder."""
