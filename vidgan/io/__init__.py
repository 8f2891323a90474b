"""Video I/O at the edges of a pipeline: decoding sources, encoding sinks, atomic outputs."""
