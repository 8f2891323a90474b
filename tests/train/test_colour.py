"""The palette term: OpenCV's Lab, a distance that reads like the eval's, and a pull toward the paintings."""

from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import torch

from vidgan.train.colour import ColourBank, rgb_to_lab
from vidgan.train.style import StyleTrainer, StyleTrainingConfig

from .test_style import folders  # noqa: F401  (the fixture)


def test_lab_matches_opencv_on_float_images():
    rng = np.random.default_rng(0)
    image = rng.random((24, 32, 3), dtype=np.float32)
    image[:4] *= 0.02  # the linear segments of sRGB and of Lab near black
    expected = cv2.cvtColor(image, cv2.COLOR_RGB2Lab)
    got = rgb_to_lab(torch.from_numpy(image).permute(2, 0, 1)[None])[0].permute(1, 2, 0).numpy()
    error = np.abs(got - expected)  # OpenCV reads its curves from tables: within a tenth of a unit
    assert error.max() < 0.5 and error.mean() < 0.1


def _painting_crops(seed: int, count: int = 6) -> torch.Tensor:
    """Blue-and-yellow crops: a palette far from grey."""
    rng = np.random.default_rng(seed)
    mask = torch.from_numpy(rng.random((count, 1, 32, 32)) < 0.5).float()
    blue, yellow = torch.tensor([0.1, 0.2, 0.8])[:, None, None], torch.tensor([0.9, 0.8, 0.1])[:, None, None]
    return mask * blue + (1 - mask) * yellow


def test_distance_is_small_for_the_same_palette_and_large_for_another():
    bank = ColourBank(_painting_crops(0))
    same, grey = bank.distance(_painting_crops(1)), bank.distance(torch.full((4, 3, 32, 32), 0.5))
    assert float(same) < 1.0 < 20.0 < float(grey)


def test_descending_the_term_moves_a_grey_image_to_the_paintings_palette():
    bank = ColourBank(_painting_crops(0))
    logits = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 0.1
    logits.requires_grad_(True)
    optimiser = torch.optim.Adam([logits], lr=0.05)
    start = float(bank.distance(torch.sigmoid(logits.detach())))
    for _ in range(150):
        optimiser.zero_grad()
        loss = bank.distance(torch.sigmoid(logits))
        loss.backward()
        optimiser.step()
    assert float(bank.distance(torch.sigmoid(logits.detach()))) < 0.25 * start


def test_the_term_is_trained_logged_and_named_in_the_card(folders, tmp_path):  # noqa: F811
    content, style = folders
    config = dataclasses.replace(StyleTrainingConfig.smoke((content,), (style,), str(tmp_path / "run")),
                                 lambda_colour=2.0)
    trainer = StyleTrainer(config)
    weights = trainer.run(progress="quiet")
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    colours = [r["colour"] for r in rows if "colour" in r]
    assert len(colours) == config.steps and all(value > 0 for value in colours)
    card = json.loads(weights.with_suffix(".json").read_text())
    assert "Lab palette" in card["training"]["recipe"]
