"""Training data: discovery, resident crops, synthetic motion pairs and real frame pairs.

All media are generated in each test's ``tmp_path``: smooth random textures written with OpenCV
and a tiny translating clip written with PyAV.
"""

from __future__ import annotations

import logging
import re
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import torch

from vidgan import ops
from vidgan.errors import VidganError
from vidgan.train import data
from vidgan.train.data import (
    ImageCrops,
    MotionConfig,
    Occluder,
    TrainingDataError,
    VideoPairs,
    find_images,
    find_sequences,
    render_pair,
    synthetic_batch,
    synthetic_pair,
)

SHIFT = (2, 1)  # texture motion per frame in the test clips, pixels (x, y)


def texture(height: int, width: int, seed: int = 0, sigma: float = 2.5) -> np.ndarray:
    """Smooth random RGB texture (H, W, 3) float32 in [0.05, 0.95]: detail for flow, no aliasing."""
    noise = np.random.default_rng(seed).random((height, width, 3)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), sigma)
    low, high = smooth.min(axis=(0, 1)), smooth.max(axis=(0, 1))
    return 0.05 + 0.9 * (smooth - low) / (high - low)


def write_image(path: Path, rgb: np.ndarray) -> Path:
    """Write a float RGB image in [0, 1] as an 8-bit file (OpenCV wants BGR)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), cv2.cvtColor(np.round(rgb * 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
    return path


def moving_frames(count: int, size: tuple[int, int] = (160, 120), seed: int = 3) -> list[np.ndarray]:
    """``count`` uint8 RGB frames of a texture moving SHIFT pixels right and down per frame.

    The window slides the other way over a larger texture, so ``frame[i + 1](x) == frame[i](x - SHIFT)``:
    the backward flow is ``-SHIFT`` everywhere.
    """
    width, height = size
    x0, y0 = 4 + count * SHIFT[0], 4 + count * SHIFT[1]
    big = np.round(texture(height + y0 + 4, width + x0 + 4, seed) * 255).astype(np.uint8)
    return [np.ascontiguousarray(big[y0 - i * SHIFT[1]:y0 - i * SHIFT[1] + height,
                                     x0 - i * SHIFT[0]:x0 - i * SHIFT[0] + width]) for i in range(count)]


def write_clip(path: Path, frames: list[np.ndarray], rate: int = 25) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(rate))
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "10", "preset": "ultrafast"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def warp_error(previous: torch.Tensor, current: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Per-pixel mean absolute error (N, 1, H, W) of warping ``previous`` by ``flow`` onto ``current``."""
    warped, _ = ops.warp(previous.contiguous(), flow.contiguous())
    return (warped - current).abs().mean(dim=1, keepdim=True)


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> float:
    return float((values * mask).sum() / mask.sum().clamp_min(1))


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    """Five textured 'photos' of different sizes and aspect ratios."""
    sizes = [(120, 160), (150, 100), (96, 96), (200, 130), (110, 180)]
    return [write_image(tmp_path / "photos" / f"p{i}.png", texture(h, w, seed=i)) for i, (h, w) in enumerate(sizes)]


# -- discovery ------------------------------------------------------------------------------------

def test_find_images_recursive_natural_order_and_filters(tmp_path):
    pixel = np.full((4, 4, 3), 0.5, np.float32)
    names = ["img10.png", "img2.jpg", "sub/deeper/c.bmp", "sub/b.JPEG", "w.webp", ".hidden.png", "notes.txt"]
    for name in names:
        if name.endswith(".txt"):
            (tmp_path / "a" / name).write_text("not an image")
        else:
            write_image(tmp_path / "a" / name, pixel)
    other = write_image(tmp_path / "b" / "z.png", pixel)
    found = find_images([tmp_path / "a", str(tmp_path / "b"), other])  # the repeat is listed once
    rel = [p.relative_to(tmp_path).as_posix() for p in found]
    assert rel == ["a/img2.jpg", "a/img10.png", "a/sub/b.JPEG", "a/sub/deeper/c.bmp", "a/w.webp", "b/z.png"]
    assert find_images(tmp_path / "a") == find_images(tmp_path / "a")  # deterministic
    assert find_images(other) == [other]  # one file is accepted as is


def test_find_images_missing_folder(tmp_path):
    with pytest.raises(TrainingDataError, match=r"^image folder not found: .*nope$"):
        find_images([tmp_path / "nope"])


def test_find_images_empty_folder_names_it(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "readme.txt").write_text("hello")
    for folder in ("empty", "text"):
        expected = f"no images (.jpg, .jpeg, .png, .bmp, .webp) in folder: {tmp_path / folder}"
        with pytest.raises(TrainingDataError, match="^" + re.escape(expected) + "$") as info:
            find_images(tmp_path / folder)
        assert isinstance(info.value, VidganError) and isinstance(info.value, ValueError)
        assert "\n" not in str(info.value)


# -- resident crops -------------------------------------------------------------------------------

def test_unreadable_images_are_skipped_counted_and_warned(tmp_path, photos, caplog):
    bad = tmp_path / "photos" / "corrupt.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg" * 10)
    empty = tmp_path / "photos" / "empty.png"
    empty.touch()
    with caplog.at_level(logging.WARNING, logger="vidgan"):
        bank = ImageCrops(find_images(tmp_path / "photos"), crop=32)
    assert len(bank) == len(photos) and bank.skipped == 2
    assert sorted(bank.skipped_paths) == sorted([bad, empty])
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and any(str(bad) in w for w in warnings) and any(str(empty) in w for w in warnings)


def test_nothing_readable_is_an_error(tmp_path):
    bad = tmp_path / "x.png"
    bad.write_bytes(b"garbage")
    with pytest.raises(TrainingDataError, match=r"none of the 1 images could be read"):
        ImageCrops([bad], crop=32)


def test_crop_of_whole_image_is_exact_rgb(tmp_path):
    image = np.zeros((32, 32, 3), np.float32)
    image[:16, :, 0] = 1.0  # red top half
    image[16:, :16, 2] = 1.0  # blue bottom-left
    path = write_image(tmp_path / "q.png", image)
    bank = ImageCrops([path], crop=32, scale=(1.0, 1.0), flip=False)
    batch = bank.sample_batch(2, np.random.default_rng(0))
    expected = torch.from_numpy(image).permute(2, 0, 1)
    assert torch.equal(batch[0], expected) and torch.equal(batch[1], expected)


def test_resident_images_are_downscaled_or_raised_to_the_crop(tmp_path):
    big = write_image(tmp_path / "big.jpg", texture(300, 450))
    small = write_image(tmp_path / "small.png", texture(20, 30))
    bank = ImageCrops([big, small], crop=48, short_side=128)
    assert bank.images[0].shape == (128, 192, 3) and bank.images[0].dtype == np.uint8
    assert bank.images[1].shape == (48, 72, 3)
    with pytest.raises(TrainingDataError, match=r"short_side \(32\) must be at least the crop \(48\)"):
        ImageCrops([big], crop=48, short_side=32)


def test_sample_batch_shapes_range_and_determinism(photos):
    bank = ImageCrops(photos, crop=40)
    batch = bank.sample_batch(6, np.random.default_rng(7))
    assert batch.shape == (6, 3, 40, 40) and batch.dtype == torch.float32 and batch.is_contiguous()
    assert 0.0 <= float(batch.min()) and float(batch.max()) <= 1.0
    assert torch.equal(batch, bank.sample_batch(6, np.random.default_rng(7)))
    assert not torch.equal(batch, bank.sample_batch(6, np.random.default_rng(8)))
    assert len(ImageCrops(photos[0].parent, crop=40)) == len(photos)  # a folder is searched
    item = bank[2]
    assert item.shape == (3, 40, 40) and item.dtype == torch.float32


def test_crops_flip(tmp_path):
    image = texture(64, 64, seed=5)
    bank = ImageCrops([write_image(tmp_path / "t.png", image)], crop=64, scale=(1.0, 1.0))
    exact = torch.from_numpy(np.round(image * 255) / 255).permute(2, 0, 1).float()
    crops = bank.sample_batch(16, np.random.default_rng(0))
    plain = {torch.allclose(crop, exact, atol=1e-6) for crop in crops}
    mirrored = {torch.allclose(crop, exact.flip(-1), atol=1e-6) for crop in crops}
    assert plain == mirrored == {True, False}  # each crop is one or the other, and both turn up


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


# -- real frame pairs -----------------------------------------------------------------------------

def check_translation(pair: data.MotionPair, border: int = 16) -> None:
    """DIS flow on the interior of a translating texture is the true shift, and trusted."""
    inner = (slice(None), slice(border, -border), slice(border, -border))
    flow, valid = pair.flow_cur_to_prev[inner], pair.valid[inner]
    truth = torch.tensor([-SHIFT[0], -SHIFT[1]], dtype=torch.float32).view(2, 1, 1)
    assert float((flow - truth).abs().mean()) < 0.25
    assert float(valid.mean()) > 0.9


def test_video_pairs_from_clip(tmp_path):
    clip = write_clip(tmp_path / "move.mp4", moving_frames(20))
    pairs = VideoPairs([clip], crop=48)  # 19 pairs: flow is estimated in two chunks
    assert len(pairs) == 19 and pairs.skipped == 0 and pairs.dropped == 0
    for index in (0, 9, 16, 18):
        check_translation(pairs.pair(index))
    previous, current, flow, valid = pairs.sample_batch(6, np.random.default_rng(1))
    assert previous.shape == current.shape == (6, 3, 48, 48)
    assert flow.shape == (6, 2, 48, 48) and valid.shape == (6, 1, 48, 48)
    assert all(t.dtype == torch.float32 and t.is_contiguous() for t in (previous, current, flow, valid))
    flipped = flow[:, 0].mean(dim=(1, 2)) > 0  # mirrored crops move the other way
    assert flipped.any() and not flipped.all()
    error = masked_mean(warp_error(previous, current, flow), valid)  # H.264 noise and chroma included
    assert error < 0.04 and error < 0.5 * masked_mean(warp_error(previous, current, torch.zeros_like(flow)), valid)
    again = pairs.sample_batch(6, np.random.default_rng(1))
    assert all(torch.equal(a, b) for a, b in zip((previous, current, flow, valid), again))


def test_video_pairs_from_frame_folder_in_natural_order(tmp_path):
    folder = tmp_path / "shots" / "take1"
    for i, frame in enumerate(moving_frames(12), start=1):  # frame_1 ... frame_12: frame_10 sorts after frame_9
        write_image(folder / f"frame_{i}.png", frame.astype(np.float32) / 255)
    assert find_sequences(tmp_path / "shots") == [folder]
    pairs = VideoPairs(tmp_path / "shots", crop=48)
    assert len(pairs) == 11
    for index in range(len(pairs)):
        check_translation(pairs.pair(index))
    spread = VideoPairs(folder, crop=48, max_frames_per_video=6, run=3)  # runs 0-2 and 9-11
    assert len(spread) == 4 and len(spread.frames) == 6


def test_video_pairs_skip_unreadable_and_downscale(tmp_path, caplog):
    write_clip(tmp_path / "videos" / "a.mp4", moving_frames(4, size=(320, 240)))
    broken = tmp_path / "videos" / "broken.mkv"
    broken.write_bytes(b"definitely not matroska" * 50)
    with caplog.at_level(logging.WARNING, logger="vidgan"):
        pairs = VideoPairs(tmp_path / "videos", crop=32, short_side=120)
    assert len(pairs) == 3 and pairs.skipped == 1 and pairs.skipped_paths == [broken]
    assert any(str(broken) in r.getMessage() for r in caplog.records)
    assert pairs.frames[0].shape == (120, 160, 3)  # short side 240 -> 120


def test_video_paths_errors(tmp_path):
    with pytest.raises(TrainingDataError, match=r"^video path not found: .*missing$"):
        VideoPairs([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(TrainingDataError, match=r"^no videos or frame folders in: .*empty$"):
        VideoPairs(tmp_path / "empty")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"nope" * 100)
    with pytest.raises(TrainingDataError, match=r"^no usable consecutive frame pairs in .*bad\.mp4$"):
        VideoPairs(bad)
