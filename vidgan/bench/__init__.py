"""Benchmarks, each printing a table and calling the product's own code (``python -m vidgan.bench.NAME``).

``overview`` is behind ``vidgan bench``; the others go deeper into one part each (see the README).
"""
