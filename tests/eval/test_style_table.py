"""vidgan eval style --styles: every style model run on one input and scored against its own paintings, one table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.eval.synthetic import blobs, moving_square, random_loss_net, stripes, write_images, write_video
from tests.eval.tiny_styles import install_styles
from vidgan.cli import main as vidgan_main
from vidgan.errors import VidganError
from vidgan.eval.style import SwdSettings
from vidgan.eval.style_table import format_style_table, style_table
from vidgan.models.stylizer import RecurrentStylizer, StylizerConfig
from vidgan.models.zoo import save_style

SMALL = SwdSettings(patches_per_image=32, directions=16, repeats=1, max_frames=3)


@pytest.fixture
def setup(tmp_path, monkeypatch):
    folder = install_styles(tmp_path, monkeypatch, {"alpha": ("lite", "full"), "beta": ("lite",)})
    identity = RecurrentStylizer(StylizerConfig("lite", width=8, blocks=1, head="half", padding="zeros"))
    save_style(identity, {"name": "same", "kind": "stylizer", "preset": "lite"}, folder, "same_lite")
    paintings = tmp_path / "paintings"
    write_images(paintings / "alpha", [stripes(s, 96, 128) for s in range(2)])
    write_images(paintings / "beta", [blobs(s, 96, 128) for s in range(2)])
    write_images(paintings / "same", [stripes(s + 5, 96, 128) for s in range(2)])
    video = write_video(tmp_path / "clip.mp4", moving_square(frames=5))
    return paintings, video


def test_a_row_per_style_and_preset(setup, tmp_path):
    paintings, video = setup
    net = random_loss_net(tmp_path / "net.safetensors")
    rows = style_table(paintings, video, None, "both", settings=SMALL, loss_net=net)
    assert [(r.style, r.preset) for r in rows] == [("alpha", "lite"), ("alpha", "full"), ("beta", "lite"),
                                                   ("same", "lite")]
    for row in rows:
        assert row.swd_ratio > 0 and row.gram_ratio > 0 and row.lab_output > 0
        assert -1 <= row.edge_correlation <= 1
        assert row.report.output.images == 3
    alpha_lite, alpha_full, beta, same = rows
    assert alpha_lite.report.paintings_path.endswith("alpha") and beta.report.paintings_path.endswith("beta")
    assert alpha_lite.lab_input == alpha_full.lab_input != beta.lab_input  # one input, each style's paintings
    assert alpha_lite.swd_ratio != alpha_full.swd_ratio
    assert same.edge_correlation > max(0.99, alpha_lite.edge_correlation)  # a fresh head changes nothing
    assert same.swd_ratio == pytest.approx(1, abs=0.05)
    table = format_style_table(rows)
    assert "SWD ratio" in table and "Gram ratio" in table and "edge corr" in table
    assert len([line for line in table.splitlines() if line.startswith("  alpha ")]) == 2


def test_one_command_prints_one_table(setup, capsys):
    paintings, video = setup
    base = ["eval", "style", str(paintings), str(video), "--frames", "2"]
    assert vidgan_main([*base, "--styles", "alpha,beta", "--preset", "lite"]) == 0
    out = capsys.readouterr().out
    assert "not measured: no loss network given" in out
    assert [line.split()[:2] for line in out.splitlines() if line.startswith("  alpha") or line.startswith("  beta")] \
        == [["alpha", "lite"], ["beta", "lite"]]
    assert vidgan_main([*base, "--json", "--styles", "all", "--preset", "full"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["style"], row["preset"]) == ("alpha", "full") and row["gram_ratio"] is None
    assert np.isfinite(row["swd_ratio"]) and np.isfinite(row["edge_correlation"])


def test_errors_are_one_line(setup, tmp_path, capsys):
    paintings, video = setup
    cases = [
        (["eval", "style", str(paintings), str(video), str(video), "--styles", "alpha"], "PAINTINGS INPUT only"),
        (["eval", "style", str(paintings / "alpha"), str(video), "--preset", "lite"], "--preset only apply with --styles"),
        (["eval", "style", str(tmp_path), str(video), "--styles", "alpha", "beta"], "no paintings for style 'alpha'"),
        (["eval", "style", str(paintings), str(video), "--styles", "gamma"], "unknown style 'gamma'"),
        (["eval", "style", str(paintings), str(tmp_path / "none.mp4"), "--styles", "alpha"], "does not exist"),
    ]
    for argv, message in cases:
        assert vidgan_main(argv) != 0
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    with pytest.raises(VidganError, match="paintings folder .* does not exist"):
        style_table(tmp_path / "missing", video, ["alpha"])


def test_single_style_may_use_the_paintings_folder_itself(setup):
    paintings, video = setup
    [row] = style_table(paintings / "beta", video, ["beta"], settings=SMALL)
    assert row.report.paintings_path == str(paintings / "beta")
