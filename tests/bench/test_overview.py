"""``vidgan bench`` on a tiny generated clip: every row is there, timed or explained."""

from __future__ import annotations

import importlib.util
import json

import pytest
import torch

from tests.runner import error_line, vidgan


def test_bench_prints_every_step_with_references():
    result = vidgan("bench", "--size", "64x48", "--frames", "8", "--no-ffmpeg", "--json", "--device", "cpu",
                    timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    rows = {row["step"]: row for row in report["rows"]}
    for step in ("decode (H.264, PyAV)", "upload + YUV->RGB", "download + RGB->YUV", "encode (libx264 veryfast)",
                 "stylize lite", "interpolate 2x dis", "kernel warp", "end to end -vf null",
                 "end to end -vf stylize (lite)"):
        assert rows[step]["ms_per_frame"] > 0, step
    assert rows["kernel warp"]["reference"] == "torch twin" and rows["kernel warp"]["reference_ms"] > 0
    assert rows["end to end -vf stylize (lite)"]["reference_ms"] > 0
    # models without weights are listed with the reason instead of a number
    assert rows["interpolate 2x full"]["ms_per_frame"] is None and "weights" in rows["interpolate 2x full"]["note"]
    assert "CPU threads" in report["machine"]
    # decode -> stylize -> encode per preset and engine, each next to the naive loop of its preset
    for case in ("lite, live: flow=fast", "full, file default", "full, precision=fp32"):
        for engine in ("torch", "openvino"):
            row = rows[f"end to end -vf stylize ({case}, engine={engine})"]
            if engine == "openvino" and importlib.util.find_spec("openvino") is None:
                assert row["ms_per_frame"] is None and "not installed" in row["note"]
                continue
            assert row["ms_per_frame"] > 0 and row["reference_ms"] > 0, (case, engine)


def test_bench_refuses_a_bad_size():
    result = vidgan("bench", "--size", "big")
    assert result.returncode == 2
    assert "size must be WxH" in result.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present: the CUDA table is the point there")
def test_bench_on_cuda_without_a_gpu_says_so():
    result = vidgan("bench", "--device", "cuda", "--size", "64x48", "--frames", "4")
    assert result.returncode != 0
    assert "no CUDA GPU" in error_line(result)
