"""Fixtures of the training-data tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.train.data.media import texture, write_image


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    """Five textured 'photos' of different sizes and aspect ratios."""
    sizes = [(120, 160), (150, 100), (96, 96), (200, 130), (110, 180)]
    return [write_image(tmp_path / "photos" / f"p{i}.png", texture(h, w, seed=i)) for i, (h, w) in enumerate(sizes)]
