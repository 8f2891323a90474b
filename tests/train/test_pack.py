"""``vidgan train pack``: resized copies that keep the folder structure and skip unreadable files."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from vidgan.train.data import TrainingDataError
from vidgan.train.pack import pack_folder


def _write(path, height, width, seed):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    cv2.imwrite(str(path), image)


def test_pack_resizes_keeps_structure_and_counts_unreadable(tmp_path):
    source = tmp_path / "paintings"
    _write(source / "a.png", 600, 800, 0)
    _write(source / "sub" / "b.png", 200, 300, 1)  # already small: never upscaled
    (source / "broken.jpg").write_bytes(b"not an image")
    report = pack_folder(source, tmp_path / "packed", short_side=120)
    assert (report.images, report.skipped) == (2, 1)
    big = cv2.imread(str(tmp_path / "packed" / "a.jpg"))
    small = cv2.imread(str(tmp_path / "packed" / "sub" / "b.jpg"))
    assert big.shape[:2] == (120, 160) and small.shape[:2] == (120, 180)
    assert report.bytes_out < report.bytes_in


def test_pack_refuses_to_write_inside_its_source(tmp_path):
    _write(tmp_path / "src" / "a.png", 64, 64, 0)
    with pytest.raises(TrainingDataError, match="outside the source"):
        pack_folder(tmp_path / "src", tmp_path / "src" / "packed")


def test_cli_packs_each_source_under_its_name(tmp_path):
    _write(tmp_path / "photos" / "p.png", 400, 500, 2)
    result = subprocess.run([sys.executable, "-m", "vidgan", "train", "pack", str(tmp_path / "photos"),
                             "--out", str(tmp_path / "out"), "--image-side", "100"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert cv2.imread(str(tmp_path / "out" / "photos" / "p.jpg")).shape[:2] == (100, 125)
    assert "packed" in result.stderr
