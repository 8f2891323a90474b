"""Fixtures of the evaluation tests: synthetic media made fresh in each test's ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.eval.synthetic import make_clips, make_style_sets


@pytest.fixture
def clips(tmp_path: Path) -> dict[str, Path]:
    return make_clips(tmp_path)


@pytest.fixture
def style_sets(tmp_path: Path) -> dict[str, Path]:
    return make_style_sets(tmp_path)
