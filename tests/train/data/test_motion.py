"""Synthetic frame pairs: exact hand-made geometry and random motion with valid masks.

All media are generated in each test's ``tmp_path``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from tests.train.data.media import masked_mean, texture, warp_error
from vidgan import ops
from vidgan.train.data import (
    ImageCrops,
    MotionConfig,
    Occluder,
    render_pair,
    synthetic_batch,
    synthetic_pair,
)

# -- synthetic pairs: hand-made geometry ----------------------------------------------------------

def grid(size: int) -> np.ndarray:
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    return np.stack((xs, ys))


def test_integer_translation_is_exact():
    crop, margin, (dx, dy) = 32, 6, (3, -2)
    source = texture(crop + 2 * margin, crop + 2 * margin, seed=1)
    pair = render_pair(source, grid(crop) + np.array([dx, dy], np.float32)[:, None, None], margin)
    src = torch.from_numpy(source).permute(2, 0, 1)
    assert torch.equal(pair.previous, src[:, margin:margin + crop, margin:margin + crop])
    assert torch.equal(pair.current, src[:, margin + dy:margin + dy + crop, margin + dx:margin + dx + crop])
    assert torch.all(pair.flow_cur_to_prev[0] == dx) and torch.all(pair.flow_cur_to_prev[1] == dy)
    ys, xs = np.mgrid[0:crop, 0:crop]
    expected = (xs + dx <= crop - 1) & (ys + dy >= 0)
    assert np.array_equal(pair.valid[0].numpy().astype(bool), expected)
    error = warp_error(pair.previous[None], pair.current[None], pair.flow_cur_to_prev[None])
    assert float((error * pair.valid).max()) == 0.0


def test_occluder_known_geometry():
    """A static background and a 10x10 opaque patch moving 4 px right: exact flow and occlusions."""
    crop, margin = 32, 4
    source = texture(crop + 2 * margin, crop + 2 * margin, seed=2)
    patch = np.concatenate((1 - texture(10, 10, seed=9), np.ones((10, 10, 1), np.float32)), axis=2)
    occluder = Occluder(patch, top_left=(8, 8), coords=grid(crop) - np.array([4, 0], np.float32)[:, None, None])
    pair = render_pair(source, grid(crop), margin, [occluder])
    flow, valid = pair.flow_cur_to_prev.numpy(), pair.valid[0].numpy().astype(bool)
    fg = np.zeros((crop, crop), bool)
    fg[8:18, 12:22] = True  # where the patch is now
    assert np.all(flow[0][fg] == -4) and np.all(flow[1][fg] == 0)
    assert np.all(flow[:, ~fg] == 0)
    assert valid[8:17, 12:21].all()  # the patch itself, less at most a one-pixel band
    assert not valid[8:18, 8:12].any()  # uncovered background: the previous frame shows the patch
    background = np.ones((crop, crop), bool)
    background[7:19, 7:23] = False
    assert valid[background].all()
    assert torch.equal(pair.current[:, 8:18, 12:22], torch.from_numpy(patch[..., :3]).permute(2, 0, 1))
    error = warp_error(pair.previous[None], pair.current[None], pair.flow_cur_to_prev[None])
    assert float((error * pair.valid).max()) < 1e-6
    assert masked_mean(error, 1 - pair.valid) > 0.05


# -- synthetic pairs: random motion ---------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_synthetic_pair_warps_onto_current_where_valid(seed):
    image = torch.from_numpy(texture(180, 240, seed=seed)).permute(2, 0, 1)
    motion = MotionConfig()
    pair = synthetic_pair(image, np.random.default_rng(seed), crop=64, motion=motion)
    assert pair.previous.shape == pair.current.shape == (3, 64, 64)
    assert pair.flow_cur_to_prev.shape == (2, 64, 64) and pair.valid.shape == (1, 64, 64)
    assert set(pair.valid.unique().tolist()) <= {0.0, 1.0}
    assert float(pair.valid.mean()) > 0.5
    assert float(pair.flow_cur_to_prev.abs().max()) < motion.margin(64) + motion.occluder_motion[1] + 16
    error = warp_error(pair.previous[None], pair.current[None], pair.flow_cur_to_prev[None])
    assert masked_mean(error, pair.valid) < 0.002  # bilinear both ways: equal up to rounding
    assert float(pair.flow_cur_to_prev.std(dim=(1, 2)).max()) > 0.05  # not a pure shift


def test_synthetic_occluders_make_large_errors_only_where_invalid():
    image = torch.from_numpy(texture(160, 160, seed=11, sigma=1.5)).permute(2, 0, 1)
    motion = MotionConfig(occluder_prob=1.0, max_occluders=1, occluder_size=(0.4, 0.5), occluder_motion=(6, 8))
    valid_errors, invalid_errors = [], []
    for seed in range(4):
        pair = synthetic_pair(image, np.random.default_rng(seed), crop=64, motion=motion)
        _, inside = ops.warp(pair.previous[None].contiguous(), pair.flow_cur_to_prev[None].contiguous())
        error = warp_error(pair.previous[None], pair.current[None], pair.flow_cur_to_prev[None])
        occluded = inside * (1 - pair.valid)  # inside the frame, yet not the same surface point
        assert float(occluded.sum()) > 20
        valid_errors.append(masked_mean(error, pair.valid))
        invalid_errors.append(masked_mean(error, occluded))
    assert max(valid_errors) < 0.002
    assert min(invalid_errors) > 0.03


def test_synthetic_pair_inputs():
    image = np.round(texture(70, 90, seed=4) * 255).astype(np.uint8)
    from_array = synthetic_pair(image, np.random.default_rng(0), crop=48)
    from_uint8 = synthetic_pair(torch.from_numpy(image).permute(2, 0, 1), np.random.default_rng(0), crop=48)
    assert torch.allclose(from_array.previous, from_uint8.previous, atol=1e-6)
    tiny = synthetic_pair(torch.rand(3, 20, 30), np.random.default_rng(0), crop=32)  # enlarged to fit
    assert tiny.current.shape == (3, 32, 32)


@pytest.mark.parametrize("crop", [32, 96])
def test_synthetic_batch(photos, crop):
    bank = ImageCrops(photos, crop=crop)
    previous, current, flow, valid = synthetic_batch(bank, 5, np.random.default_rng(1))
    assert previous.shape == current.shape == (5, 3, crop, crop)
    assert flow.shape == (5, 2, crop, crop) and valid.shape == (5, 1, crop, crop)
    for tensor in (previous, current, flow, valid):
        assert tensor.dtype == torch.float32 and tensor.is_contiguous() and bool(torch.isfinite(tensor).all())
    assert set(valid.unique().tolist()) <= {0.0, 1.0} and float(valid.mean()) > 0.5
    assert 0 <= float(previous.min()) and float(current.max()) <= 1
    error = warp_error(previous, current, flow)
    assert masked_mean(error, valid) < 0.002
    again = synthetic_batch(bank, 5, np.random.default_rng(1))
    assert all(torch.equal(a, b) for a, b in zip((previous, current, flow, valid), again))


@pytest.mark.parametrize("motion", [
    MotionConfig(occluder_prob=0),
    MotionConfig(occluder_prob=0, max_rotation=10, scale=(0.8, 1.2), perspective=8, elastic=6),
])
def test_background_motion_stays_within_the_margin(photos, motion):
    bank = ImageCrops(photos, crop=64)
    _, _, flow, valid = synthetic_batch(bank, 16, np.random.default_rng(0), motion)
    assert float(flow.abs().max()) <= motion.margin(64)  # the source always covers the motion
    assert float(valid.mean()) > 0.5


def test_synthetic_batch_is_fast(photos):
    bank = ImageCrops(photos, crop=128)
    rng = np.random.default_rng(0)
    synthetic_batch(bank, 8, rng)
    start = time.process_time()
    for _ in range(3):
        synthetic_batch(bank, 8, rng)
    assert (time.process_time() - start) / 3 < 0.25  # about 10-20 ms on one core
