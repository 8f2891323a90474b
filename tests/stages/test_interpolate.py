"""The interpolate filter: timing by factor and to a constant rate, scene cuts, bad input, the CLI."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import pytest
import torch

from tests import media
from vidgan.errors import FilterOptionError
from vidgan.frame import ColorInfo, Frame
from vidgan.graph.pipeline import Pipeline
from vidgan.graph.stage import StageContext
from vidgan.models.interp import get_interpolator
from vidgan.stages.interpolate import InterpolateError

TB = Fraction(1, 1000)


def _stage(chain: str, rate: Fraction | None = Fraction(25)):
    stage = Pipeline.from_chain(chain, StageContext(device="cpu")).stages[0]
    stage.set_input_rate(rate)
    return stage


def _scene(seed: int = 0, height: int = 72, width: int = 96) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    big = torch.rand(1, 3, height + 40, width + 80, generator=gen)
    return torch.nn.functional.avg_pool2d(big, 7, 1, 3)


def _view(scene: torch.Tensor, x: float, height: int = 72, width: int = 96) -> torch.Tensor:
    """A window of ``scene`` at horizontal offset ``x`` (sub-pixel: bilinear)."""
    left = int(x)
    frac = x - left
    a = scene[..., 20:20 + height, left:left + width]
    b = scene[..., 20:20 + height, left + 1:left + 1 + width]
    return (a * (1 - frac) + b * frac).contiguous()


def _frame(tensor: torch.Tensor, pts: int) -> Frame:
    return Frame(pts=pts, time_base=TB, color=ColorInfo()).with_tensor(tensor)


def _run(stage, frames: list[Frame]) -> list[Frame]:
    out = []
    for frame in frames:
        out += stage.process(frame)
    return out + stage.flush()


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    crop = (..., slice(8, -8), slice(12, -12))  # away from the borders that move out of view
    mse = float(((a[crop] - b[crop]) ** 2).mean())
    return 10 * torch.log10(torch.tensor(1.0 / mse)).item()


def test_factor_two_gives_2n_minus_1_frames_halfway_in_time():
    scene = _scene()
    frames = [_frame(_view(scene, 6 * i), 40 * i) for i in range(5)]
    out = _run(_stage("interpolate=factor=2"), frames)
    assert len(out) == 2 * 5 - 1
    assert all(f.time_base == TB / 2 for f in out)
    assert [f.pts for f in out] == [40 * i for i in range(9)]  # in 1/2000 s: every 20 ms


def test_dis_model_beats_blending_on_motion():
    scene = _scene(1)
    first, middle, last = _view(scene, 10), _view(scene, 14), _view(scene, 18)
    model = get_interpolator("dis")
    made = model.synthesize(model.prepare(first, last), 0.5)
    blend = (first + last) / 2
    assert _psnr(made, middle) > _psnr(blend, middle) + 6


def test_factor_keeps_variable_timestamps():
    scene = _scene(2)
    stamps = [0, 40, 120, 160, 260]
    out = _run(_stage("interpolate=factor=3"), [_frame(_view(scene, 3 * i), p) for i, p in enumerate(stamps)])
    seconds = [float(f.pts * f.time_base) for f in out]
    expected = []
    for a, b in zip(stamps, stamps[1:]):
        expected += [a / 1000 + k * (b - a) / 3000 for k in range(3)]
    assert seconds == pytest.approx(expected + [stamps[-1] / 1000])


def test_fps_mode_makes_a_constant_rate_from_variable_input():
    scene = _scene(3)
    stamps = [0, 40, 100, 140, 200]  # 25 fps with a gap
    stage = _stage("interpolate=fps=50")
    out = _run(stage, [_frame(_view(scene, 2 * i), p) for i, p in enumerate(stamps)])
    assert stage.output_rate(Fraction(25)) == 50
    assert [f.pts for f in out] == list(range(len(out)))
    assert all(f.time_base == Fraction(1, 50) for f in out)
    # the grid runs to the last frame's time plus one input frame (40 ms): 0 .. 220 ms
    assert len(out) == 12
    assert torch.equal(out[0].to_tensor(), _view(scene, 0))  # t = 0 is the real frame


def test_scene_cut_repeats_instead_of_morphing():
    first, other = _view(_scene(4), 0), 1.0 - _view(_scene(5), 0)
    out = _run(_stage("interpolate=factor=2"), [_frame(first, 0), _frame(other, 40)])
    assert torch.equal(out[1].to_tensor(), first)
    blended = _run(_stage("interpolate=factor=2:scene=0"), [_frame(first, 0), _frame(other, 40)])
    assert not torch.equal(blended[1].to_tensor(), first)


@pytest.mark.parametrize("chain, message", [
    ("interpolate=factor=1", r"factor must be >= 2"),
    ("interpolate=fps=fast", r"fps must be a positive number"),
    ("interpolate=model=magic", r"unknown interpolation model 'magic'"),
    ("interpolate=scale=16", r"scale must be 0 \(the model's own\) or >= 32"),
])
def test_bad_options(chain, message):
    with pytest.raises(FilterOptionError, match=message):
        _stage(chain)


def test_fps_below_the_input_rate_is_refused():
    with pytest.raises(FilterOptionError, match=r"fps=20 is below the input's 25 fps.*-vf fps=20"):
        _stage("interpolate=fps=20")


def test_size_change_and_single_frame_are_refused():
    stage = _stage("interpolate")
    stage.process(_frame(_scene(6)[..., :72, :96], 0))
    with pytest.raises(InterpolateError, match=r"frame size changed from 96x72 to 64x48"):
        stage.process(_frame(_scene(6)[..., :48, :64], 40))
    lonely = _stage("interpolate")
    lonely.process(_frame(_scene(7)[..., :72, :96], 0))
    with pytest.raises(InterpolateError, match=r"single frame"):
        lonely.flush()


def test_cli_doubles_the_rate_and_keeps_the_audio(tmp_path):
    clip = media.write_video(tmp_path / "in.mp4", size=(96, 64), frames=12, audio_seconds=0.5)
    out = tmp_path / "out.mp4"
    run = subprocess.run([sys.executable, "-m", "vidgan", "interpolate", str(clip), "-o", str(out), "--factor", "2",
                          "-q"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    times = media.video_times(out)
    assert len(times) == 2 * 12 - 1
    assert all(b > a for a, b in zip(times, times[1:]))
    assert times[-1] == pytest.approx(media.video_times(clip)[-1], abs=1e-3)
    assert media.audio_packets(out), "audio was dropped"


def test_dedupe_turns_animation_on_twos_into_smooth_motion():
    scene = _scene(8)
    drawings = [_view(scene, 4 * i) for i in range(5)]
    frames = [_frame(drawings[i // 2], 40 * i) for i in range(10)]  # each drawing held for two frames
    plain = _run(_stage("interpolate=fps=25"), frames)
    deduped_stage = _stage("interpolate=fps=25:dedupe=0.004")
    deduped = _run(deduped_stage, frames)
    assert deduped_stage.dropped == 5
    assert len(plain) == len(deduped) == 10  # same constant-rate grid, same duration

    def repeats(out):
        return sum(torch.equal(a.to_tensor(), b.to_tensor()) for a, b in zip(out, out[1:]))

    assert repeats(plain) == 5
    assert repeats(deduped[:-2]) == 0  # in-between drawings now; the last drawing holds at the end
    # the frame between two drawings sits halfway between them
    middle = deduped[1].to_tensor()
    assert _psnr(middle, _view(scene, 2)) > _psnr(drawings[0], _view(scene, 2)) + 6


def test_dedupe_needs_a_constant_output_rate():
    with pytest.raises(FilterOptionError, match=r"dedupe needs fps"):
        _stage("interpolate=dedupe=0.004")
