"""vidgan.eval: E_warp and the SWD style distance on small synthetic media made in each test."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import torch

from vidgan.commands import eval as commands
from vidgan.errors import InputNotFoundError, VidganError
from vidgan.eval.metrics import (
    PAPER_FACTOR,
    EvalInputError,
    FrameMismatchError,
    SwdSettings,
    evenly_spaced,
    laplacian_pyramid,
    masked_warp_error,
    sample_frames,
    sliced_wasserstein,
    style_distance,
    valid_mask,
    warping_error,
    warping_error_frames,
)

SIZE = (128, 96)  # width, height


# -- media ---------------------------------------------------------------------------------------
def texture(seed: int, height: int, width: int, cell: int = 4) -> np.ndarray:
    """A random colour texture with detail every few pixels: something optical flow can lock on to."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((height // cell + 1, width // cell + 1, 3)).astype(np.float32)
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return (np.clip(smooth, 0, 1) * 255).round().astype(np.uint8)


def moving_square(frames: int = 12, size: tuple[int, int] = SIZE, step: tuple[int, int] = (2, 1)) -> list[np.ndarray]:
    """A textured square sliding over a still textured background."""
    width, height = size
    background, square = texture(1, height, width), texture(2, 32, 32)
    out = []
    for t in range(frames):
        frame = background.copy()
        x, y = 20 + step[0] * t, 30 + step[1] * t
        frame[y:y + 32, x:x + 32] = square
        out.append(frame)
    return out


def restyle(frame: np.ndarray) -> np.ndarray:
    """A fixed per-pixel "style": swap channels and bend the tones. Temporally stable by construction."""
    shifted = frame[..., ::-1].astype(np.float32) / 255.0
    return (np.sqrt(shifted) * 255).round().astype(np.uint8)


def flicker(frames: list[np.ndarray], sigma: float = 0.05, seed: int = 0) -> list[np.ndarray]:
    """Per-frame Gaussian noise (0-1 scale): what an unstable per-frame stylizer looks like."""
    rng = np.random.default_rng(seed)
    return [np.clip(f + rng.normal(0, 255 * sigma, f.shape), 0, 255).round().astype(np.uint8) for f in frames]


def write_video(path: Path, frames: list[np.ndarray], *, rate: int = 25) -> Path:
    """H.264 yuv420p (near-lossless) with PyAV."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=rate, options={"crf": "8"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def write_images(folder: Path, images: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, image in enumerate(images):
        cv2.imwrite(str(folder / f"{index:04d}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return folder


@pytest.fixture
def clips(tmp_path: Path) -> dict[str, Path]:
    original = moving_square()
    stable = [restyle(f) for f in original]
    return {
        "original": write_video(tmp_path / "original.mp4", original),
        "stable": write_video(tmp_path / "stable.mp4", stable),
        "flicker": write_video(tmp_path / "flicker.mp4", flicker(stable)),
    }


# -- E_warp: the pieces --------------------------------------------------------------------------
def _flow(height: int, width: int, dx: float, dy: float = 0.0) -> torch.Tensor:
    flow = torch.zeros(1, 2, height, width)
    flow[:, 0], flow[:, 1] = dx, dy
    return flow


class TestMaskedWarpError:
    def test_divides_by_valid_values_not_pixels(self):
        current = torch.full((1, 3, 4, 6), 0.5)
        warped = torch.zeros(1, 3, 4, 6)
        valid = torch.zeros(1, 1, 4, 6)
        valid[..., :3] = 1  # half the pixels
        # every valid value is off by 0.5: mean of the squares over valid values is 0.25 (the paper's: 0.75)
        assert masked_warp_error(current, warped, valid).item() == pytest.approx(0.25)

    def test_ignores_errors_where_occluded(self):
        current, warped = torch.zeros(2, 3, 5, 5), torch.zeros(2, 3, 5, 5)
        valid = torch.ones(2, 1, 5, 5)
        valid[:, :, 2, 2] = 0
        current[:, :, 2, 2] = 1.0
        assert masked_warp_error(current, warped, valid).tolist() == [0.0, 0.0]

    def test_no_valid_pixel_scores_zero_like_the_released_code(self):
        errors = masked_warp_error(torch.ones(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), torch.zeros(1, 1, 4, 4))
        assert errors.tolist() == [0.0]


class TestValidMask:
    def test_consistent_translation_is_valid_except_where_it_leaves_the_frame(self):
        mask = valid_mask(_flow(8, 12, 1.5), _flow(8, 12, -1.5))
        assert mask[0, 0, :, :10].eq(1).all()
        assert mask[0, 0, :, 11].eq(0).all()  # 11 + 1.5 > W - 1

    def test_forward_backward_threshold(self):
        # zero motion, backward flow off by d: occluded iff d^2 > 0.01 * d^2 + 0.5
        below, above = 0.70, 0.72  # 0.70^2 * 0.99 = 0.485 < 0.5 < 0.72^2 * 0.99 = 0.513
        assert valid_mask(_flow(6, 6, 0.0), _flow(6, 6, below))[0, 0, 2:4, 2:4].eq(1).all()
        assert valid_mask(_flow(6, 6, 0.0), _flow(6, 6, above))[0, 0, 2:4, 2:4].eq(0).all()

    def test_motion_boundary_is_invalid(self):
        flow_bw = _flow(6, 20, 0.0)
        flow_bw[:, 0, :, 10:] = 3.0  # a step in u between columns 9 and 10
        flow_fw = -flow_bw  # consistent wherever the step does not intervene
        mask = valid_mask(flow_bw, flow_fw)[0, 0]
        assert mask[:, 9].eq(0).all() and mask[:, 10].eq(0).all()
        assert mask[:, 3].eq(1).all() and mask[:, 14].eq(1).all()

    def test_non_finite_flow_is_invalid(self):
        flow = _flow(4, 4, 0.0)
        flow[0, 0, 1, 1] = float("nan")
        mask = valid_mask(flow, _flow(4, 4, 0.0))
        assert mask[0, 0, 1, 1] == 0 and mask[0, 0, 3, 3] == 1


# -- E_warp: whole videos ------------------------------------------------------------------------
class TestWarpingError:
    def test_flicker_scores_far_higher_than_a_stable_stylization(self, clips):
        stable = warping_error(clips["original"], clips["stable"])
        flickering = warping_error(clips["original"], clips["flicker"])
        assert stable.pairs == flickering.pairs == 11
        assert flickering.stylized.ewarp > 5 * stable.stylized.ewarp
        # a stable restyle stays near the original's own error; per-frame noise does not
        assert stable.ratio < 1.5 and stable.meets_goal
        assert flickering.ratio > 4 and not flickering.meets_goal
        # the original's own error is the same whatever it is compared with
        assert stable.original.ewarp == flickering.original.ewarp

    def test_paper_value_is_three_times_the_code_value(self, clips):
        report = warping_error(clips["original"], clips["flicker"])
        assert report.stylized.ewarp_paper == pytest.approx(PAPER_FACTOR * report.stylized.ewarp)
        assert report.stylized.ewarp == pytest.approx(np.mean(report.stylized.per_pair))

    def test_occlusions_come_from_the_original(self):
        # the square's trailing edge uncovers background: without the mask these pixels would count
        original = moving_square(frames=6, step=(4, 0))
        result = warping_error_frames(original, original)
        assert 0.8 < result.valid_fraction < 0.95  # the uncovered strip and the square's outline
        assert result.original.ewarp < 5e-4  # about 2e-3 if they were counted

    def test_identical_videos_score_identically(self):
        frames = moving_square(frames=5)
        threads = torch.get_num_threads()
        result = warping_error_frames(frames, [f.copy() for f in frames])
        assert result.stylized.per_pair == result.original.per_pair
        assert torch.get_num_threads() == threads  # held to one thread during the call only

    def test_skip_cuts_leaves_out_the_pair_across_a_shot_change(self, tmp_path):
        frames = moving_square(frames=12)
        # a cut to another exposure: the flow still matches (DIS compares zero-mean patches), the colours do not
        frames = frames[:6] + [(f // 2 + 120).astype(np.uint8) for f in frames[6:]]
        original = write_video(tmp_path / "cut.mp4", frames)
        styled = write_video(tmp_path / "cut_styled.mp4", [restyle(f) for f in frames])
        whole = warping_error(original, styled)
        skipped = warping_error(original, styled, skip_cuts=True)
        assert whole.skipped_pairs == () and skipped.skipped_pairs == (5,)
        kept = [v for i, v in enumerate(whole.stylized.per_pair) if i != 5]
        assert skipped.stylized.ewarp == pytest.approx(np.mean(kept))
        assert skipped.stylized.ewarp < whole.stylized.ewarp / 3  # the cut outweighed everything else

    def test_max_frames(self, clips):
        assert warping_error(clips["original"], clips["flicker"], max_frames=4).pairs == 3

    def test_frame_count_mismatch(self, clips, tmp_path):
        short = write_video(tmp_path / "short.mp4", [restyle(f) for f in moving_square(frames=8)])
        with pytest.raises(FrameMismatchError, match=r"has 12 frames but .*short\.mp4 has 8"):
            warping_error(clips["original"], short)

    def test_other_aspect_ratio_is_refused(self, clips, tmp_path):
        cropped = write_video(tmp_path / "cropped.mp4", [f[:, :96] for f in moving_square()])
        with pytest.raises(FrameMismatchError, match="aspect ratio"):
            warping_error(clips["original"], cropped)

    def test_scaled_stylization_is_resized_to_the_original(self, clips, tmp_path):
        big = [cv2.resize(restyle(f), (256, 192), interpolation=cv2.INTER_CUBIC) for f in moving_square()]
        report = warping_error(clips["original"], write_video(tmp_path / "big.mp4", big))
        assert report.resized and report.stylized_size == (256, 192) and report.size == SIZE
        assert report.ratio < 3

    def test_frame_folders(self, tmp_path):
        frames = moving_square(frames=6)
        original = write_images(tmp_path / "orig", frames)
        noisy = write_images(tmp_path / "noisy", flicker(frames))
        report = warping_error(original, noisy)
        assert report.frames == 6 and report.ratio > 10

    def test_single_frame_is_refused(self, tmp_path):
        one = write_images(tmp_path / "one", moving_square(frames=1))
        with pytest.raises(EvalInputError, match="at least 2"):
            warping_error(one, one)

    def test_missing_input(self, clips, tmp_path):
        with pytest.raises(InputNotFoundError, match="does not exist"):
            warping_error(clips["original"], tmp_path / "nope.mp4")


# -- style distance ------------------------------------------------------------------------------
def stripes(seed: int, height: int = 160, width: int = 200) -> np.ndarray:
    """Diagonal stripes in warm colours with grain: one "painting style"."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    wave = 0.5 + 0.5 * np.sin((xx + yy) * 0.6 + rng.uniform(0, 6))
    palette = np.array([[0.9, 0.6, 0.1], [0.2, 0.1, 0.5]], np.float32)
    image = wave[..., None] * palette[0] + (1 - wave[..., None]) * palette[1]
    image += rng.normal(0, 0.03, image.shape)
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)


def blobs(seed: int, height: int = 160, width: int = 200) -> np.ndarray:
    """Soft green-grey blobs: nothing like the stripes."""
    smooth = texture(seed, height, width, cell=24).astype(np.float32) / 255
    grey = smooth.mean(axis=2, keepdims=True)
    image = 0.3 + 0.4 * grey * np.array([0.5, 1.0, 0.6], np.float32)
    return (image * 255).round().astype(np.uint8)


@pytest.fixture
def style_sets(tmp_path: Path) -> dict[str, Path]:
    sources = [stripes(seed) for seed in range(4)]
    return {
        "paintings": write_images(tmp_path / "paintings", sources),
        "translated": write_images(tmp_path / "translated", [np.roll(s, (13, 29), axis=(0, 1)) for s in sources]),
        "unrelated": write_images(tmp_path / "unrelated", [blobs(seed) for seed in range(4)]),
    }


SMALL = SwdSettings(patches_per_image=128)


class TestStylePieces:
    def test_laplacian_pyramid_sums_back_to_the_image(self):
        image = texture(3, 61, 90).astype(np.float32) / 255
        bands = laplacian_pyramid(image, 4)
        assert [b.shape[:2] for b in bands] == [(61, 90), (31, 45), (16, 23), (8, 12)]
        rebuilt = bands[-1]
        for band in reversed(bands[:-1]):
            rebuilt = cv2.pyrUp(rebuilt, dstsize=(band.shape[1], band.shape[0])) + band
        np.testing.assert_allclose(rebuilt, image, atol=1e-5)

    def test_sliced_wasserstein_of_a_shift_is_the_projected_shift(self):
        rng = np.random.default_rng(0)
        a = rng.normal(size=(500, 3)).astype(np.float32)
        shift = np.array([0.3, -1.2, 0.0], np.float32)
        axes = np.eye(3, dtype=np.float32)
        assert sliced_wasserstein(a, a, axes) == 0.0
        assert sliced_wasserstein(a, a + shift, axes) == pytest.approx(np.abs(shift).mean(), rel=1e-5)
        with pytest.raises(ValueError, match="same size"):
            sliced_wasserstein(a, a[:10], axes)

    def test_evenly_spaced(self):
        assert evenly_spaced(250, 16)[0] == 0 and evenly_spaced(250, 16)[-1] == 249
        assert len(set(evenly_spaced(17, 16))) == 16
        assert evenly_spaced(5, 16) == [0, 1, 2, 3, 4]

    def test_video_frames_are_sampled_evenly(self, tmp_path):
        levels = [np.full((64, 64, 3), 10 * i, np.uint8) for i in range(20)]
        frames = sample_frames(write_video(tmp_path / "ramp.mp4", levels), 4)
        assert [round(f.mean() / 10) for f in frames] == [0, 6, 13, 19]


class TestStyleDistance:
    def test_translated_copy_is_closer_than_an_unrelated_texture(self, style_sets):
        report = style_distance(style_sets["paintings"], style_sets["translated"], style_sets["unrelated"],
                                settings=SMALL)
        assert report.output.mean < 0.3 * report.input.mean
        assert report.ratio < 0.3
        assert len(report.output.per_level) == 4 and report.paintings == 4

    def test_deterministic_for_a_seed(self, style_sets):
        first = style_distance(style_sets["paintings"], style_sets["unrelated"], settings=SMALL)
        again = style_distance(style_sets["paintings"], style_sets["unrelated"], settings=SMALL)
        other = style_distance(style_sets["paintings"], style_sets["unrelated"], settings=SwdSettings(
            patches_per_image=128, seed=1))
        assert first.output.per_level == again.output.per_level
        assert first.output.per_level != other.output.per_level
        assert other.output.mean == pytest.approx(first.output.mean, rel=0.1)

    def test_same_output_and_input_give_ratio_one(self, style_sets):
        report = style_distance(style_sets["paintings"], style_sets["unrelated"], style_sets["unrelated"],
                                settings=SMALL)
        assert report.ratio == 1.0

    def test_videos_are_sampled(self, style_sets, tmp_path):
        video = write_video(tmp_path / "v.mp4", [np.roll(stripes(0), 3 * t, axis=1) for t in range(30)])
        report = style_distance(style_sets["paintings"], video, settings=SwdSettings(patches_per_image=64,
                                                                                    max_frames=5))
        assert report.output.images == 5 and report.input is None

    def test_too_small_images_are_refused(self, style_sets, tmp_path):
        tiny = write_images(tmp_path / "tiny", [stripes(0, 40, 40)])
        with pytest.raises(EvalInputError, match="too small for 4 pyramid levels"):
            style_distance(style_sets["paintings"], tiny, settings=SMALL)

    def test_paintings_must_be_a_folder_of_images(self, style_sets, tmp_path):
        with pytest.raises(InputNotFoundError):
            style_distance(tmp_path / "missing", style_sets["translated"])
        (tmp_path / "empty").mkdir()
        with pytest.raises(EvalInputError, match="holds no images"):
            style_distance(tmp_path / "empty", style_sets["translated"])


# -- command line --------------------------------------------------------------------------------
def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="vidgan")
    commands.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


class TestCommands:
    def test_registry(self):
        assert [name for name, _ in commands.EVAL_METRICS.items()] == ["temporal", "style", "interp"]
        with pytest.raises(ValueError, match="already registered"):
            commands.EVAL_METRICS.add("temporal", commands.EVAL_METRICS.get("temporal"))

    def test_wired_into_the_vidgan_command(self):
        result = subprocess.run([sys.executable, "-m", "vidgan", "eval", "--help"],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "temporal" in result.stdout and "style" in result.stdout

    def test_temporal_json(self, clips, capsys):
        assert run_cli(["eval", "temporal", str(clips["original"]), str(clips["flicker"]), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["metric"] == "ewarp" and out["pairs"] == 11 and out["size"] == list(SIZE)
        assert out["stylized_ewarp"]["ewarp_paper"] == pytest.approx(3 * out["stylized_ewarp"]["ewarp"])
        assert out["ratio"] == pytest.approx(out["stylized_ewarp"]["ewarp"] / out["original_ewarp"]["ewarp"])
        assert "pixels x 3" in out["convention"]

    def test_temporal_table(self, clips, capsys):
        run_cli(["eval", "temporal", str(clips["original"]), str(clips["stable"]), "--max-frames", "5"])
        out = capsys.readouterr().out
        assert "4 pairs" in out and "paper (x3)" in out and "original itself" in out and "goal <= 3x" in out

    def test_style_table_and_json(self, style_sets, capsys):
        paths = [str(style_sets[k]) for k in ("paintings", "translated", "unrelated")]
        run_cli(["eval", "style", *paths])
        assert "ratio output/input" in capsys.readouterr().out
        run_cli(["eval", "style", *paths[:2], "--json", "--seed", "3"])
        out = json.loads(capsys.readouterr().out)
        assert out["input_swd"] is None and out["ratio"] is None and out["settings"]["seed"] == 3

    def test_user_errors_are_vidgan_errors(self, clips, tmp_path):
        with pytest.raises(VidganError):
            run_cli(["eval", "temporal", str(clips["original"]), str(tmp_path / "missing.mp4")])

    @pytest.mark.parametrize("argv", [
        ["eval"], ["eval", "interp"], ["eval", "temporal", "a", "b", "--max-frames", "0"],
    ])
    def test_bad_arguments(self, argv):
        with pytest.raises(SystemExit) as exit_info:
            run_cli(argv)
        assert exit_info.value.code == 2
