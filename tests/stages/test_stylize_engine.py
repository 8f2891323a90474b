"""The stylize stage's engine option: which engine auto picks, and that OpenVINO's frames are torch's."""

from __future__ import annotations

import json

import pytest
import torch

from vidgan.errors import FilterOptionError
from vidgan.graph.pipeline import Pipeline
from vidgan.graph.stage import StageContext
from vidgan.models.stylizer import build_generator
from vidgan.models.zoo import save_style
from vidgan.stages import stylize_engine
from vidgan.stages.stylize_engine import ENGINES, Engine

#: Max abs difference between the engines' frames in [0, 1] over a few recurrent frames.
TOLERANCE = 1e-4


@pytest.fixture
def tiny_style(tmp_path, monkeypatch) -> str:
    """A randomly initialised lite style installed as a user style."""
    monkeypatch.setenv("VIDGAN_DATA_DIR", str(tmp_path / "data"))
    torch.manual_seed(0)
    model = build_generator("lite")
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.1)
    path = save_style(model, {"kind": "stylizer", "preset": "lite", "training": {"steps": 0}},
                      tmp_path / "data" / "styles", "tiny_lite")
    card = json.loads(path.with_suffix(".json").read_text())
    card["name"] = "tiny"
    path.with_suffix(".json").write_text(json.dumps(card))
    return "tiny"


def _stage(chain: str):
    return Pipeline.from_chain(chain, StageContext(device="cpu")).stages[0]


def _clip(count: int) -> list[torch.Tensor]:
    """A smooth texture sliding 2 px a frame, at an odd size."""
    gen = torch.Generator().manual_seed(3)
    base = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 90, 130, generator=gen), 5, 1, 2)
    return [base[..., 5:70, 2 * i:2 * i + 99].contiguous() for i in range(count)]


@pytest.fixture
def without_openvino(monkeypatch):
    missing = Engine(lambda: False, ENGINES["openvino"].build, ENGINES["openvino"].install)
    monkeypatch.setitem(ENGINES, "openvino", missing)


def test_an_unknown_engine_is_one_line(tiny_style):
    with pytest.raises(FilterOptionError, match=r"^stylize: engine must be one of auto, torch, openvino; got 'tensorrt'$"):
        _stage("stylize=style=tiny:engine=tensorrt")


def test_a_missing_engine_asked_for_is_one_line_and_auto_falls_back(tiny_style, without_openvino):
    with pytest.raises(FilterOptionError, match=r"^stylize: engine=openvino is not installed; install openvino"):
        _stage("stylize=style=tiny:engine=openvino")
    assert _stage("stylize=style=tiny").engine == "torch"


def test_compile_is_a_torch_option(tiny_style):
    assert _stage("stylize=style=tiny:compile=1").engine == "torch"
    if ENGINES["openvino"].available():
        with pytest.raises(FilterOptionError, match="compile=1 is a torch option"):
            _stage("stylize=style=tiny:engine=openvino:compile=1")


def test_auto_is_torch_on_cuda():
    assert stylize_engine.resolve_engine("auto", torch.device("cuda")) == "torch"


def test_engine_torch_is_the_model_itself(tiny_style):
    stage = _stage("stylize=style=tiny:engine=torch:motion=none:precision=fp32")
    frame = _clip(1)[0]
    with torch.no_grad():
        expected = stage.model(frame).clamp(0, 1)
    assert torch.equal(stage.stylize_tensor(frame), expected)


def test_openvino_frames_are_torch_frames(tiny_style):
    pytest.importorskip("openvino")
    fast = _stage("stylize=style=tiny:engine=openvino:precision=fp32")
    exact = _stage("stylize=style=tiny:engine=torch:precision=fp32")
    assert _stage("stylize=style=tiny").engine == "openvino"  # the default, auto, on the CPU
    assert "openvino" in fast.describe()
    for frame in _clip(4):
        assert (fast.stylize_tensor(frame) - exact.stylize_tensor(frame)).abs().max() < TOLERANCE


def test_each_frame_size_is_compiled_once(tiny_style, caplog):
    pytest.importorskip("openvino")
    import logging

    stage = _stage("stylize=style=tiny:engine=openvino:motion=none")
    small, large = _clip(1)[0], torch.rand(1, 3, 40, 58)
    with caplog.at_level(logging.INFO, logger="vidgan"):
        for frame in (small, small, large, small):
            stage.stylize_tensor(frame)
    assert sorted(stage._forward._requests) == [(40, 58), (65, 99)]
    assert sum("OpenVINO generator for" in message for message in caplog.messages) == 2  # one line a size


def test_a_live_stream_runs_torch_until_openvino_is_ready(tiny_style):
    """No live frame waits for a conversion: the first frames of a size are torch's exactly, and
    once the worker thread has compiled the size, OpenVINO's (within rounding)."""
    pytest.importorskip("openvino")
    chain = "stylize=style=tiny:motion=none:precision=fp32"
    live = Pipeline.from_chain(f"{chain}:engine=openvino", StageContext(device="cpu", realtime=True)).stages[0]
    exact = _stage(f"{chain}:engine=torch")
    frame = _clip(1)[0]
    assert torch.equal(live.stylize_tensor(frame), exact.stylize_tensor(frame))
    warming = live._forward
    height, width = frame.shape[-2:]
    warming.openvino.prepare(height, width).result(timeout=120)
    again = live.stylize_tensor(frame)
    assert warming.openvino.ready(height, width)
    assert not torch.equal(again, exact.stylize_tensor(frame))  # OpenVINO ran: not torch's bits
    assert (again - exact.stylize_tensor(frame)).abs().max() < TOLERANCE


def test_a_failed_background_conversion_keeps_the_stream_on_torch(tiny_style, monkeypatch, caplog):
    pytest.importorskip("openvino")
    from vidgan.models.openvino_generator import OpenVinoGenerator

    def broken(self, height, width):
        raise RuntimeError("no such op")

    monkeypatch.setattr(OpenVinoGenerator, "_load", broken)
    chain = "stylize=style=tiny:motion=none:precision=fp32"
    live = Pipeline.from_chain(f"{chain}:engine=openvino", StageContext(device="cpu", realtime=True)).stages[0]
    exact = _stage(f"{chain}:engine=torch")
    frame = _clip(1)[0]
    live.stylize_tensor(frame)
    live._forward.openvino.prepare(*frame.shape[-2:]).exception(timeout=60)
    for _ in range(2):
        assert torch.equal(live.stylize_tensor(frame), exact.stylize_tensor(frame))
    assert sum("staying on torch" in message for message in caplog.messages) == 1
