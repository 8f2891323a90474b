"""vidgan.eval.temporal: E_warp's pieces and whole videos, on synthetic media made in each test."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from tests.eval.synthetic import SIZE, flicker, moving_square, restyle, write_images, write_video
from vidgan.errors import EvalInputError, FrameMismatchError, InputNotFoundError
from vidgan.eval.temporal import PAPER_FACTOR, masked_warp_error, valid_mask, warping_error, warping_error_frames


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


    def test_unknown_flow_preset(self):
        frames = moving_square(frames=2)
        with pytest.raises(EvalInputError, match="unknown DIS preset 'slow'; choose one of ultrafast, fast, medium"):
            warping_error_frames(frames, frames, preset="slow")
