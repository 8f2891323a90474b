"""vidgan eval temporal / style: the metric registry, tables and JSON, and argument errors."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.eval.synthetic import SIZE, make_clips, make_style_sets, random_loss_net
from vidgan.commands import eval as commands
from vidgan.errors import ModelFileError, VidganError


@pytest.fixture
def clips(tmp_path: Path) -> dict[str, Path]:
    return make_clips(tmp_path)


@pytest.fixture
def style_sets(tmp_path: Path) -> dict[str, Path]:
    return make_style_sets(tmp_path)


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="vidgan")
    commands.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


class TestCommands:
    def test_registry(self):
        assert [name for name, _ in commands.EVAL_METRICS.items()] == ["temporal", "style", "interp"]
        with pytest.raises(ValueError, match="already registered"):
            commands.EVAL_METRICS.add("temporal", commands.EVAL_METRICS.get("temporal"))

    def test_wired_into_the_vidgan_command(self):
        result = subprocess.run([sys.executable, "-m", "vidgan", "eval", "--help"],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "temporal" in result.stdout and "style" in result.stdout

    def test_temporal_json(self, clips, capsys):
        assert run_cli(["eval", "temporal", str(clips["original"]), str(clips["flicker"]), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["metric"] == "ewarp" and out["pairs"] == 11 and out["size"] == list(SIZE)
        assert out["stylized_ewarp"]["ewarp_paper"] == pytest.approx(3 * out["stylized_ewarp"]["ewarp"])
        assert out["ratio"] == pytest.approx(out["stylized_ewarp"]["ewarp"] / out["original_ewarp"]["ewarp"])
        assert "pixels x 3" in out["convention"]

    def test_temporal_table(self, clips, capsys):
        run_cli(["eval", "temporal", str(clips["original"]), str(clips["stable"]), "--max-frames", "5"])
        out = capsys.readouterr().out
        assert "4 pairs" in out and "paper (x3)" in out and "original itself" in out and "goal <= 3x" in out

    def test_style_table_and_json(self, style_sets, capsys):
        paths = [str(style_sets[k]) for k in ("paintings", "translated", "unrelated")]
        run_cli(["eval", "style", *paths])
        assert "ratio output/input" in capsys.readouterr().out
        run_cli(["eval", "style", *paths[:2], "--json", "--seed", "3"])
        out = json.loads(capsys.readouterr().out)
        assert out["input_swd"] is None and out["ratio"] is None and out["settings"]["seed"] == 3

    def test_style_json_holds_the_look_measures(self, style_sets, tmp_path, capsys, monkeypatch):
        monkeypatch.delenv("VIDGAN_LOSS_NET", raising=False)
        paths = [str(style_sets[k]) for k in ("paintings", "translated", "unrelated")]
        run_cli(["eval", "style", *paths, "--json"])
        out = json.loads(capsys.readouterr().out)
        assert out["perceptual"]["measured"] is False and "no loss network" in out["perceptual"]["reason"]
        assert out["lab_colour"]["measured"] and out["edge_correlation"]["measured"]
        net = random_loss_net(tmp_path / "vgg.safetensors")
        run_cli(["eval", "style", *paths, "--json", "--loss-net", str(net)])
        out = json.loads(capsys.readouterr().out)
        perceptual = out["perceptual"]
        assert perceptual["measured"] and perceptual["ratio"] == pytest.approx(
            perceptual["output"]["distance"] / perceptual["input"]["distance"])
        # the translated set is the paintings' look; the unrelated input is not
        assert perceptual["ratio"] < 1 and out["lab_colour"]["below_input"]
        run_cli(["eval", "style", *paths, "--loss-net", str(net)])
        table = capsys.readouterr().out
        assert "perceptual" in table.lower() and "edge" in table.lower() and "lab" in table.lower()

    def test_a_wrong_loss_net_file_is_one_line(self, style_sets, tmp_path):
        bad = tmp_path / "vgg.safetensors"
        bad.write_bytes(b"not a tensor file")
        paths = [str(style_sets[k]) for k in ("paintings", "translated")]
        with pytest.raises(ModelFileError, match="not a readable safetensors file") as info:
            run_cli(["eval", "style", *paths, "--loss-net", str(bad)])
        assert "\n" not in str(info.value)

    def test_user_errors_are_vidgan_errors(self, clips, tmp_path):
        with pytest.raises(VidganError):
            run_cli(["eval", "temporal", str(clips["original"]), str(tmp_path / "missing.mp4")])

    @pytest.mark.parametrize("argv", [
        ["eval"], ["eval", "interp"], ["eval", "temporal", "a", "b", "--max-frames", "0"],
    ])
    def test_bad_arguments(self, argv):
        with pytest.raises(SystemExit) as exit_info:
            run_cli(argv)
        assert exit_info.value.code == 2
