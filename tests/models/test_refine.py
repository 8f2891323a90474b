"""The refinement network: untrained it is ``dis`` bit for bit, it loads only its own safe weights, and
``-vf interpolate=model=refine`` / ``vidgan interpolate --model refine`` run it."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
import torch

from tests import media
from vidgan.errors import ModelFileError, VidganError
from vidgan.frame import ColorInfo, Frame
from vidgan.graph.pipeline import Pipeline
from vidgan.graph.stage import StageContext
from vidgan.io.frames import iter_frames
from vidgan.models.cards import save_model
from vidgan.models.interp import DisInterpolator, get_interpolator, interpolator_names
from vidgan.models.interpnet import build_interpnet
from vidgan.models.refine import PRESETS, RefineConfig, build_refine, load_refine, refined_frame, save_refine


def _frames(height: int, width: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    scene = torch.nn.functional.avg_pool2d(torch.rand(1, 3, height, width + 6, generator=gen), 5, 1, 2)
    return scene[..., :width].contiguous(), scene[..., 6:].contiguous()


def _install(folder, preset: str = "lite", seed: int = 0):
    """Untrained weights where ``model=refine`` looks: ``$VIDGAN_DATA_DIR/interp``."""
    torch.manual_seed(seed)
    return save_refine(folder / "interp", f"interp_refine_{preset}", build_refine(preset), dis_preset="medium",
                       name="interp")


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize(("size", "scale"), [((50, 70), 360), ((72, 120), 40)])
def test_untrained_network_is_dis_bit_for_bit(preset, size, scale):
    """Random frames, motion at full scale and at a reduced one (the network at the flow's scale)."""
    frame0, frame1 = _frames(*size)
    net = build_refine(preset).eval()
    dis = DisInterpolator(max_short_side=scale)
    pair = dis.prepare(frame0, frame1, keep_small=True)
    assert (pair.small is not None) == (scale < min(size))
    with torch.no_grad():
        for t in (0.25, 0.5, 0.8):
            expected = dis.synthesize(dis.prepare(frame0, frame1), t)
            got = refined_frame(net, pair, t)
            assert torch.equal(got, expected)
            assert (got - expected).abs().max().item() == 0.0


def test_random_frames_through_the_registry_equal_dis(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDGAN_DATA_DIR", str(tmp_path))
    _install(tmp_path)
    assert {"dis", "refine", "refine-full"} <= set(interpolator_names())
    gen = torch.Generator().manual_seed(3)
    frame0, frame1 = torch.rand(1, 3, 40, 56, generator=gen), torch.rand(1, 3, 40, 56, generator=gen)
    refine, dis = get_interpolator("refine"), get_interpolator("dis")
    assert torch.equal(refine.synthesize(refine.prepare(frame0, frame1), 0.5),
                       dis.synthesize(dis.prepare(frame0, frame1), 0.5))


def test_trained_heads_change_the_frame():
    frame0, frame1 = _frames(48, 64)
    net = build_refine("lite").eval()
    dis = DisInterpolator()
    pair = dis.prepare(frame0, frame1)
    with torch.no_grad():
        net.head.bias.copy_(torch.tensor([0.0, 0, 0, 0, 0.5, 0.02, 0, 0]))
        changed = refined_frame(net, pair, 0.5)
    assert not torch.equal(changed, dis.synthesize(pair, 0.5))


def test_config_round_trips_and_refuses_unknown_settings():
    config = PRESETS["full"]
    assert RefineConfig.from_dict({**config.__dict__, "widths": list(config.widths)}) == config
    with pytest.raises(ValueError, match="unknown refinement network settings"):
        RefineConfig.from_dict({"colour": 3})


def test_missing_weights_name_the_command_that_trains_them(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDGAN_DATA_DIR", str(tmp_path))
    with pytest.raises(VidganError, match=r"no trained weights for interpolation model 'refine'.*"
                                          r"--model refine.*model=dis"):
        get_interpolator("refine")
    with pytest.raises(VidganError, match=r"'refine-full'"):
        get_interpolator("refine-full")


def test_bad_weights_are_one_line_errors(tmp_path):
    good = _install(tmp_path)
    assert load_refine(good).dis_preset == "medium"
    # a pickle, even named .safetensors
    pickled = tmp_path / "pickled.safetensors"
    torch.save({"x": torch.zeros(1)}, pickled)
    with pytest.raises(ModelFileError, match=r"pickle"):
        get_interpolator(str(pickled))
    # the network from scratch is another architecture
    other = save_model(tmp_path, "scratch", build_interpnet("lite").state_dict(),
                       {"kind": "interpolator", "network": {"preset": "lite"}})
    with pytest.raises(ModelFileError, match=r"holds a interpnet interpolation network, not a refine network"):
        load_refine(other)
    # weights of the full network under a lite card
    wrong = save_refine(tmp_path, "wrong", build_refine("full"), dis_preset="medium", name="x")
    wrong.with_suffix(".json").write_text(good.with_suffix(".json").read_text())
    with pytest.raises(ModelFileError, match=r"do not fit the refine network in their card"):
        get_interpolator(str(wrong))
    # a damaged file
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(good.read_bytes()[:100])
    corrupt.with_suffix(".json").write_text(good.with_suffix(".json").read_text())
    with pytest.raises(ModelFileError, match=r"corrupt"):
        get_interpolator(str(corrupt))
    # an unknown architecture in the card
    odd = tmp_path / "odd.safetensors"
    odd.write_bytes(good.read_bytes())
    odd.with_suffix(".json").write_text('{"kind": "interpolator", "architecture": "magic"}')
    with pytest.raises(VidganError, match=r"unknown architecture 'magic'"):
        get_interpolator(str(odd))
    for error in (pytest.raises(ModelFileError),):
        with error as caught:
            load_refine(other)
        assert "\n" not in str(caught.value)


def _run_chain(chain: str, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    stage = Pipeline.from_chain(chain, StageContext(device="cpu")).stages[0]
    stage.set_input_rate(Fraction(25))
    frames = [Frame(pts=40 * i, time_base=Fraction(1, 1000), color=ColorInfo()).with_tensor(t)
              for i, t in enumerate(tensors)]
    out = []
    for frame in frames:
        out += stage.process(frame)
    return [f.to_tensor("cpu") for f in out + stage.flush()]


def test_vf_model_refine_untrained_gives_the_dis_frames(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDGAN_DATA_DIR", str(tmp_path))
    _install(tmp_path)
    scene = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 64, 120, generator=torch.Generator().manual_seed(1)),
                                           5, 1, 2)
    tensors = [scene[..., 3 * i:3 * i + 96].contiguous() for i in range(4)]
    refined = _run_chain("interpolate=model=refine", tensors)
    plain = _run_chain("interpolate", tensors)
    assert len(refined) == len(plain) == 7
    assert all(torch.equal(a, b) for a, b in zip(refined, plain))


def test_cli_model_refine_and_its_weights_file(tmp_path):
    weights = _install(tmp_path)
    clip = media.write_video(tmp_path / "in.mp4", size=(96, 64), frames=5)
    outputs = {}
    for model in ("dis", str(weights)):
        out = tmp_path / f"out-{len(outputs)}.nut"
        run = subprocess.run([sys.executable, "-m", "vidgan", "interpolate", str(clip), "-o", str(out),
                              "--model", model, "-c:v", "rawvideo", "-q"], capture_output=True, text=True,
                             timeout=180)
        assert run.returncode == 0, run.stderr
        outputs[model] = [np.asarray(f) for f in iter_frames(out)]
    first, second = outputs.values()
    assert len(first) == len(second) == 9
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    missing = subprocess.run([sys.executable, "-m", "vidgan", "interpolate", str(clip), "-o",
                              str(tmp_path / "none.nut"), "--model", "refine", "-q"], capture_output=True, text=True,
                             timeout=180, env={**os.environ, "VIDGAN_DATA_DIR": str(tmp_path / "e")})
    assert missing.returncode != 0 and len(missing.stderr.strip().splitlines()) == 1
    assert "no trained weights for interpolation model 'refine'" in missing.stderr
    assert not (tmp_path / "none.nut").exists()


def test_cli_refuses_pickled_and_damaged_weights_in_one_line_and_writes_nothing(tmp_path):
    good = _install(tmp_path)
    clip = media.write_video(tmp_path / "in.mp4", size=(96, 64), frames=3)
    pickled = tmp_path / "pickled.safetensors"
    torch.save({"x": torch.zeros(1)}, pickled)
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(good.read_bytes()[:100])
    damaged.with_suffix(".json").write_text(good.with_suffix(".json").read_text())
    for weights, message in ((pickled, "pickle"), (damaged, "corrupt"), (tmp_path / "gone.safetensors", "do not exist")):
        out = tmp_path / f"out-{weights.stem}.mp4"
        run = subprocess.run([sys.executable, "-m", "vidgan", "interpolate", str(clip), "-o", str(out), "--model",
                              str(weights), "-q"], capture_output=True, text=True, timeout=180)
        assert run.returncode != 0 and len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert message in run.stderr
        assert not out.exists() and not list(tmp_path.glob(f"*{weights.stem}*.partial*"))
