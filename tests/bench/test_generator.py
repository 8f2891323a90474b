"""``python -m vidgan.bench.generator``: every shape timed with every installed engine."""

from __future__ import annotations

import importlib.util

from vidgan.bench import generator
from vidgan.models.stylizer import PRESETS


def test_each_shape_gets_a_time_per_engine_and_its_cost(monkeypatch):
    monkeypatch.setattr(generator, "CANDIDATES", {"lite": PRESETS["lite"]})
    rows = generator.bench(36, 20, rounds=1, threads=1)
    assert [r["shape"] for r in rows] == ["lite"]
    engines = {"torch fp32"} | ({"openvino fp32", "openvino bf16"} if importlib.util.find_spec("openvino") else set())
    assert set(rows[0]["ms"]) == engines and all(ms > 0 for ms in rows[0]["ms"].values())
    assert rows[0]["gmacs"] > 0 and rows[0]["params"] > 0 and rows[0]["config"]["width"] == 24
