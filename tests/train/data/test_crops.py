"""Resident image crops: decoding, skipping unreadable files, sizes, determinism, flips.

All media are generated in each test's ``tmp_path``.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from tests.train.data.media import texture, write_image
from vidgan.train.data import (
    ImageCrops,
    TrainingDataError,
    find_images,
)

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
