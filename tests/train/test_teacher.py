"""The optimisation teacher: painting photos toward a style's statistics, pairs on disk, paired crops."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from vidgan.train import losses
from vidgan.train.teacher import PairedCrops, Palette, TeacherConfig, build_teacher, paint

TINY = TeacherConfig(steps=25, crop=32, image_side=48, bank_crops=32, piece=40, pieces=2, lr=0.05)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[str, str]:
    """Smooth grey-green 'photos' and blue/yellow striped 'paintings'."""
    rng = np.random.default_rng(0)
    photos, paintings = tmp_path / "photos_in", tmp_path / "paintings"
    photos.mkdir()
    paintings.mkdir()
    for index in range(3):
        photo = cv2.GaussianBlur((rng.random((60, 80, 3)) * 255).astype(np.uint8), (9, 9), 0)
        photo[..., 1] = np.clip(photo[..., 1].astype(int) + 40, 0, 255)
        cv2.imwrite(str(photos / f"p{index}.png"), photo)
        stripes = np.zeros((64, 64, 3), np.uint8)
        stripes[:] = (200, 120, 40)  # BGR: blue
        stripes[:, index::3] = (40, 210, 230)  # yellow strokes
        cv2.imwrite(str(paintings / f"s{index}.png"), stripes)
    return str(photos), str(paintings)


def test_palette_moves_colours_to_the_paintings():
    yellow = torch.tensor([0.9, 0.8, 0.2]).view(1, 3, 1, 1).expand(1, 3, 16, 16) + 0.05 * torch.rand(1, 3, 16, 16)
    grey = torch.full((1, 3, 16, 16), 0.4) + 0.05 * torch.rand(1, 3, 16, 16)
    palette = Palette.of(yellow.clamp(0, 1))
    moved = palette.apply(grey, 1.0)
    assert (moved.mean(dim=(2, 3)) - yellow.mean(dim=(2, 3))).abs().max() < 0.05
    assert torch.allclose(palette.apply(grey, 0.0), grey, atol=0.01)


def test_paint_moves_a_photo_toward_the_style_and_keeps_its_layout(folders):
    photos, paintings = folders
    torch.manual_seed(0)
    teacher = build_teacher([paintings], TINY)
    gen = torch.Generator().manual_seed(1)
    photo = torch.nn.functional.interpolate(torch.rand(1, 3, 5, 5, generator=gen), size=(40, 40), mode="bicubic").clamp(0, 1)
    painted = paint(photo, teacher)
    assert painted.shape == photo.shape and painted.min() >= 0 and painted.max() <= 1
    torch.manual_seed(2)
    before = float(teacher.bank.distance(photo, directions=64, levels=TINY.texture_levels))
    torch.manual_seed(2)
    after = float(teacher.bank.distance(painted, directions=64, levels=TINY.texture_levels))
    assert after < 0.8 * before
    shifted = torch.roll(photo, 20, dims=-1)
    assert float(losses.structure(painted, photo)) < float(losses.structure(shifted, photo))


def test_teach_cli_writes_pairs_resumes_and_feeds_paired_crops(folders, tmp_path):
    photos, paintings = folders
    out = tmp_path / "pairs"
    command = [sys.executable, "-m", "vidgan", "train", "teach", "--content", photos, "--style", paintings,
               "--out", str(out), "--steps", "3", "--image-side", "48", "--limit", "2", "-q"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    painted = sorted((out / "painted").glob("*.png"))
    assert len(painted) == 4  # two photos, two windows each
    stamps = [p.stat().st_mtime_ns for p in painted]
    again = subprocess.run(command[:-2] + ["3", "-q"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert [p.stat().st_mtime_ns for p in painted] == stamps  # done photos are not painted twice
    assert len(list((out / "painted").glob("*.png"))) == 6
    assert not list(out.rglob("*.partial*"))

    pairs = PairedCrops(out, crop=32)
    assert pairs.record["teacher"]["steps"] == 3 and pairs.record["style_images"] == 3
    photo, target = pairs.sample_batch(5, np.random.default_rng(0))
    assert photo.shape == target.shape == (5, 3, 32, 32)
    # aligned: the painting keeps the photo's layout, so each crop is closest to its own pair
    lum = lambda t: t.mean(dim=1).flatten(1)  # noqa: E731
    match = torch.corrcoef(torch.cat((lum(photo), lum(target))))[:5, 5:]
    assert bool((match.argmax(dim=1) == torch.arange(5)).all())
