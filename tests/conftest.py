"""Shared fixtures: small media made fresh in each test's ``tmp_path`` (builders in tests/media.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import media


@pytest.fixture(scope="session", autouse=True)
def private_cache_home(tmp_path_factory: pytest.TempPathFactory):
    """Caches (the OpenVINO generators converted per size) go to a folder of this test run, not the
    user's ~/.cache; within the run, a style converted at a size once is read back after."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache-home")))
        yield


@pytest.fixture
def cfr_clip(tmp_path: Path) -> Path:
    """2 s, 25 fps, 160x120 H.264 + AAC in mp4."""
    return media.cfr_clip(tmp_path)


@pytest.fixture
def vfr_clip(tmp_path: Path) -> Path:
    """24 H.264 frames with irregular timestamps (1 ms time base) + AAC, in mkv."""
    return media.vfr_clip(tmp_path)


@pytest.fixture
def ten_bit_clip(tmp_path: Path) -> Path:
    return media.ten_bit_clip(tmp_path)


@pytest.fixture
def odd_size_clip(tmp_path: Path) -> Path:
    return media.odd_size_clip(tmp_path)


@pytest.fixture
def audio_only(tmp_path: Path) -> Path:
    return media.audio_only(tmp_path)


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.mp4"
    path.write_text("this is a text file, not a video\n")
    return path


@pytest.fixture
def empty_file(tmp_path: Path) -> Path:
    path = tmp_path / "empty.mp4"
    path.touch()
    return path


@pytest.fixture
def truncated_mp4(tmp_path: Path) -> Path:
    return media.truncated_mp4(tmp_path)


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """An empty folder for outputs, so a test can check that nothing was left in it."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder
