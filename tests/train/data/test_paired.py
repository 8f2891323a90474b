"""(photo, painted) pairs of a distilled style (the full round trip is in tests/train/test_teacher.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vidgan.errors import TrainingDataError
from vidgan.train.data.paired import PairedCrops


def test_paired_crops_need_pairs(tmp_path):
    with pytest.raises(TrainingDataError, match="vidgan train teach"):
        PairedCrops(tmp_path, crop=32)


def test_mismatched_or_small_pairs_are_skipped(tmp_path, caplog):
    for folder in ("photos", "painted"):
        (tmp_path / folder).mkdir()
    rng = np.random.default_rng(0)
    good = (rng.random((40, 40, 3)) * 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "photos" / "a.png"), good)
    cv2.imwrite(str(tmp_path / "painted" / "a.png"), good[::-1])
    cv2.imwrite(str(tmp_path / "photos" / "b.png"), good[:20])
    cv2.imwrite(str(tmp_path / "painted" / "b.png"), good[:20])
    pairs = PairedCrops(tmp_path, crop=32)
    assert len(pairs) == 1 and "skipping pair b.png" in caplog.text
    photo, painted = pairs.sample_batch(3, np.random.default_rng(1))
    assert photo.shape == painted.shape == (3, 3, 32, 32)
