"""Checkpoints in parts: each file under the limit, read back whole, stale parts removed, and a
missing part named in one line."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from vidgan.errors import TrainingDataError
from vidgan.train.checkpoint import read_checkpoint, split_payload, write_checkpoint


@dataclass(frozen=True)
class _Config:
    out: str


def _payload(step: int) -> dict:
    generator = torch.Generator().manual_seed(step)
    recipe = {name: {"w": torch.rand(64, 1024, generator=generator)} for name in ("G", "D", "opt_g", "opt_d")}
    return {"step": step, "random": {"torch": torch.get_rng_state()}, "recipe": recipe | {"pool": [torch.ones(3)]}}


def _assert_same(a: dict, b: dict) -> None:
    assert a["step"] == b["step"] and set(a["recipe"]) == set(b["recipe"])
    for key in ("G", "D", "opt_g", "opt_d"):
        assert torch.equal(a["recipe"][key]["w"], b["recipe"][key]["w"]), key


def test_a_small_payload_stays_one_file():
    payload = _payload(1)
    assert split_payload(payload, limit=10 * 2**20) == [payload]


def test_a_large_payload_is_written_in_parts_under_the_limit_and_read_back_whole(tmp_path):
    limit = 600_000  # each entry is 256 kB: two fit in a part
    payload = _payload(3)
    write_checkpoint(payload, tmp_path, _Config(str(tmp_path)), limit=limit)
    files = sorted(tmp_path.glob("checkpoint*.pt"))
    assert len(files) >= 2 and all(path.stat().st_size <= limit for path in files)
    _assert_same(read_checkpoint(tmp_path / "checkpoint.pt", torch.device("cpu")), payload)
    # the next checkpoint replaces its parts: none of the old ones is left behind
    newer = _payload(4)
    write_checkpoint(newer, tmp_path, _Config(str(tmp_path)), limit=limit)
    assert not list(tmp_path.glob("checkpoint.0000003.part*.pt"))
    _assert_same(read_checkpoint(tmp_path / "checkpoint.pt", torch.device("cpu")), newer)


def test_a_missing_part_is_one_line_naming_it(tmp_path):
    write_checkpoint(_payload(5), tmp_path, _Config(str(tmp_path)), limit=600_000)
    part = next(tmp_path.glob("checkpoint.*.part*.pt"))
    part.unlink()
    with pytest.raises(TrainingDataError, match=part.name) as error:
        read_checkpoint(tmp_path / "checkpoint.pt", torch.device("cpu"))
    assert "\n" not in str(error.value)
