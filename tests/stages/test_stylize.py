"""The stylize filter: recurrence through motion, scene-cut resets, options, and the CLI path."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from tests import media
from vidgan.errors import FilterOptionError, VidganError
from vidgan.graph.pipeline import Pipeline
from vidgan.graph.stage import StageContext
from vidgan.models.stylizer import build_generator
from vidgan.models.zoo import save_style
from vidgan.stages.stylize import FLOW_PRESETS


@pytest.fixture
def tiny_style(tmp_path, monkeypatch) -> str:
    """A randomly initialised lite style installed as a user style."""
    monkeypatch.setenv("VIDGAN_DATA_DIR", str(tmp_path / "data"))
    torch.manual_seed(0)
    model = build_generator("lite")
    torch.nn.init.normal_(model.head.weight, std=0.1)  # a fresh head is zero: the identity
    path = save_style(model, {"kind": "stylizer", "preset": "lite", "training": {"steps": 0}},
                      tmp_path / "data" / "styles", "tiny_lite")
    card = json.loads(path.with_suffix(".json").read_text())
    card["name"] = "tiny"
    path.with_suffix(".json").write_text(json.dumps(card))
    return "tiny"


def _stage(chain: str):
    return Pipeline.from_chain(chain, StageContext(device="cpu")).stages[0]


def _texture(seed: int, shift: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    base = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 80, 120, generator=gen), 5, 1, 2)
    return torch.roll(base, shifts=shift, dims=-1)[..., :72, 4:100].contiguous()


def test_static_scene_with_full_temporal_weight_repeats_the_first_output(tiny_style):
    stage = _stage("stylize=style=tiny:temporal=1")
    frame = _texture(1)
    first = stage.stylize_tensor(frame)
    for _ in range(3):
        again = stage.stylize_tensor(frame)
        interior = (again - first)[..., 4:-4, 4:-4].abs().max()
        assert interior < 1e-3  # motion zero and trusted: the previous output carries over


def test_no_motion_is_per_frame_stylization(tiny_style):
    recurrent, per_frame = _stage("stylize=style=tiny:motion=none:temporal=0"), _stage("stylize=style=tiny:motion=none:temporal=0")
    a, b = _texture(1), _texture(1, shift=3)
    recurrent.stylize_tensor(a)
    assert torch.allclose(recurrent.stylize_tensor(b), per_frame.stylize_tensor(b), atol=1e-6)


def test_scene_cut_resets_the_recurrence(tiny_style):
    continued, fresh = _stage("stylize=style=tiny"), _stage("stylize=style=tiny")
    continued.stylize_tensor(_texture(1))
    unrelated = torch.flip(_texture(7), dims=(-1,)) * 0.5 + 0.5
    assert torch.allclose(continued.stylize_tensor(unrelated), fresh.stylize_tensor(unrelated), atol=1e-6)


def test_strength_zero_returns_the_input(tiny_style):
    frame = _texture(2)
    assert torch.allclose(_stage("stylize=style=tiny:strength=0").stylize_tensor(frame), frame)


def test_processing_scale_keeps_the_output_size(tiny_style):
    frame = _texture(3)
    out = _stage("stylize=style=tiny:scale=36").stylize_tensor(frame)
    assert out.shape == frame.shape


@pytest.mark.parametrize("chain, message", [
    ("stylize=style=tiny:strength=2", r"strength must be in \[0, 1\]"),
    ("stylize=style=tiny:motion=telepathy", r"unknown motion backend 'telepathy'"),
    ("stylize=style=tiny:preset=huge", r"preset must be one of auto, lite, full; got .huge."),
    ("stylize=style=tiny:flow=slow", r"flow must be one of ultrafast, fast, medium"),
    ("stylize=style=tiny:precision=int4", r"precision must be one of auto, fp32, bf16, fp16"),
    ("stylize=style=tiny:precision=fp16", r"precision=fp16 needs CUDA"),
])
def test_bad_options(tiny_style, chain, message):
    with pytest.raises(FilterOptionError, match=message):
        _stage(chain)


def test_unknown_style_names_the_installed_ones(tiny_style):
    with pytest.raises(VidganError, match=r"unknown style 'tinny'; did you mean 'tiny'\?"):
        _stage("stylize=style=tinny")


def test_cli_stylizes_a_clip_and_keeps_frames_and_audio(tiny_style, tmp_path):
    clip = media.write_video(tmp_path / "in.mp4", size=(96, 64), frames=12, audio_seconds=0.5)
    out = tmp_path / "out.mp4"
    run = subprocess.run([sys.executable, "-m", "vidgan", "stylize", str(clip), "-o", str(out), "--style", "tiny", "-q"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert len(media.video_times(out)) == 12
    assert media.audio_packets(out), "audio was dropped"
    source, styled = media.video_frames_rgb(clip), media.video_frames_rgb(out)
    assert abs(source[5].astype(int) - styled[5].astype(int)).mean() > 5  # it changed the pixels


def test_flow_option_picks_the_dis_preset(tiny_style):
    assert _stage("stylize=style=tiny:flow=fast").motion.preset == "fast"
    assert _stage("stylize=style=tiny").motion.preset == "medium"


@pytest.mark.parametrize("engine, max_levels", [("torch", 2), ("openvino", 4)])
def test_bf16_on_the_cpu_stays_within_a_few_grey_levels_of_fp32(tiny_style, engine, max_levels):
    """torch's autocast keeps activations between layers in fp32, OpenVINO's bf16 does not: its
    random-weight bound is looser (the built-in models: 3 levels at most, under 0.4 on average)."""
    frame = _texture(4)
    exact = _stage(f"stylize=style=tiny:precision=fp32:motion=none:engine={engine}").stylize_tensor(frame)
    fast = _stage(f"stylize=style=tiny:precision=bf16:motion=none:engine={engine}").stylize_tensor(frame)
    assert not torch.equal(exact, fast)  # the bf16 path really ran
    assert (exact - fast).abs().max() < max_levels / 255
    assert (exact - fast).abs().mean() < 0.5 / 255


@pytest.mark.parametrize("native, expected", [(True, torch.bfloat16), (False, torch.float32)])
def test_auto_precision_is_bf16_only_where_the_cpu_has_it(tiny_style, monkeypatch, native, expected):
    from vidgan import device

    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: native)
    assert _stage("stylize=style=tiny").dtype == expected
    assert _stage("stylize=style=tiny:precision=fp32").dtype == torch.float32


@pytest.mark.parametrize("photometric", [0.0, 0.02])
def test_blend_matches_the_temporal_blend_op(tiny_style, photometric):
    """The stage blends with the op, exactly, trusting the motion's own confidence (photometric=0)
    or that raised where the warped previous frame matches (the default)."""
    from vidgan import ops

    stage = _stage(f"stylize=style=tiny:temporal=0.7:precision=fp32:photometric={photometric}")
    first, second = _texture(5), _texture(5, shift=2)
    previous = stage.stylize_tensor(first)
    out = stage.stylize_tensor(second)
    probe = _stage(f"stylize=style=tiny:temporal=0:precision=fp32:photometric={photometric}")
    probe.stylize_tensor(first)
    unblended = probe.stylize_tensor(second)
    dis_preset, short_side = FLOW_PRESETS["medium"]
    estimate = probe.motion.__class__(preset=dis_preset, max_short_side=short_side,
                                      photometric=photometric).estimate(first, second)
    _, inside = ops.warp(previous, estimate.flow_cur_to_prev, border="edge")
    expected = ops.temporal_blend(unblended, previous, estimate.flow_cur_to_prev, estimate.confidence * inside, 0.7)
    assert torch.equal(out, expected.clamp(0, 1))


def test_compiled_generator_matches_eager(tiny_style):
    frame = _texture(6)
    eager = _stage("stylize=style=tiny:motion=none:precision=fp32").stylize_tensor(frame)
    compiled = _stage("stylize=style=tiny:motion=none:precision=fp32:compile=1").stylize_tensor(frame)
    assert torch.allclose(eager, compiled, atol=1e-4)


def _frames(count: int, cut_at: int) -> list:
    from fractions import Fraction

    from vidgan.frame import ColorInfo, Frame

    tensors = [_texture(1 if i < cut_at else 7, shift=2 * i) for i in range(count)]
    return [Frame(pts=i, time_base=Fraction(1, 25), color=ColorInfo(), _tensor=t) for i, t in enumerate(tensors)]


def test_overlapped_motion_gives_the_same_frames_one_frame_later(tiny_style):
    """overlap=1 estimates frame t+1's motion on a worker thread while frame t is stylized: the
    output is held back one frame, and is the same as the serial stage's, scene cut included."""
    serial, overlapped = _stage("stylize=style=tiny:overlap=0"), _stage("stylize=style=tiny:overlap=1")
    frames = _frames(6, cut_at=4)
    expected = [out for f in frames for out in serial.process(f)] + serial.flush()
    got = []
    for index, f in enumerate(frames):
        produced = overlapped.process(f)
        assert len(produced) == (0 if index == 0 else 1)
        got += produced
    got += overlapped.flush()
    assert [f.pts for f in got] == list(range(6))
    for a, b in zip(expected, got):
        assert torch.equal(a.to_tensor(), b.to_tensor())


def test_live_contexts_do_not_hold_frames_back(tiny_style):
    live = Pipeline.from_chain("stylize=style=tiny:overlap=auto", StageContext(device="cpu", realtime=True)).stages[0]
    cpu_files = _stage("stylize=style=tiny")  # auto: off on the CPU, where it does not pay
    frame = _frames(1, cut_at=1)[0]
    assert len(live.process(frame)) == 1 and not live.overlap
    assert not cpu_files.overlap and len(cpu_files.process(frame)) == 1


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_overlap_is_on_by_default_for_files_on_cuda(tiny_style):
    stage = Pipeline.from_chain("stylize=style=tiny", StageContext(device="cuda")).stages[0]
    frame = _frames(1, cut_at=1)[0]
    assert stage.overlap and stage.process(frame) == [] and len(stage.flush()) == 1


def test_files_get_the_full_preset_and_live_streams_the_lite_one(tiny_style, tmp_path):
    torch.manual_seed(1)
    save_style(build_generator("full"), {"name": "tiny", "kind": "stylizer", "preset": "full",
                                         "training": {"steps": 0}}, tmp_path / "data" / "styles", "tiny_full")
    live = Pipeline.from_chain("stylize=style=tiny", StageContext(device="cpu", realtime=True)).stages[0]
    assert _stage("stylize=style=tiny").preset == "full"
    assert live.preset == "lite"
    assert _stage("stylize=style=tiny:preset=lite").preset == "lite"


def test_a_style_with_one_preset_runs_it_everywhere(tiny_style):
    live = Pipeline.from_chain("stylize=style=tiny", StageContext(device="cpu", realtime=True)).stages[0]
    assert _stage("stylize=style=tiny").preset == live.preset == "lite"


def test_a_card_margin_runs_the_generator_on_the_reflected_frame_and_crops(tiny_style, tmp_path):
    """A card's ``margin`` extends the frame by its reflection before the generator and crops it off
    after: what a model paints along an edge lands outside the frame."""
    card_file = tmp_path / "data" / "styles" / "tiny_lite.json"
    card = json.loads(card_file.read_text())
    card_file.write_text(json.dumps({**card, "margin": {"top": 8, "left": 4}}))
    stage = _stage("stylize=style=tiny:motion=none:precision=fp32:engine=torch")
    assert stage.margin == (8, 0, 0, 4)
    frame = _texture(3)
    out = stage.stylize_tensor(frame)
    padded = torch.nn.functional.pad(frame, (4, 0, 8, 0), mode="reflect")
    with torch.no_grad():
        expected = stage.model(padded)[..., 8:, 4:]
    assert out.shape == frame.shape
    assert torch.allclose(out, expected.clamp(0, 1), atol=1e-5)


@pytest.mark.parametrize("margin", [{"top": -1}, {"up": 8}, {"top": 8.5}, {"top": True}, [8]])
def test_a_bad_card_margin_is_named(margin):
    from vidgan.models.zoo import generator_margin

    with pytest.raises(VidganError, match="margin must map top, right, bottom, left to 0..256 px"):
        generator_margin({"name": "x", "margin": margin})
