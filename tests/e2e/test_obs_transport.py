"""The OBS filter's transport (vidgan/plugins/obs/src/vidgan-client.c) against a real ``vidgan serve``,
driven by the plugin's host tool at a fixed frame rate, as OBS's video thread would call it."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.stages.test_stylize_options import extended
from vidgan.options import option_schema
from vidgan.plugins.obs import build as obs_plugin
from vidgan.serve.server import Server
from vidgan.stages.stylize import StylizeStage

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")]


@pytest.fixture
def serve(tmp_path: Path, start_serve):
    return start_serve(tmp_path / "run" / "serve.sock")


@pytest.fixture(scope="module")
def check_tool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = obs_plugin.build(tmp_path_factory.mktemp("obs-build"), plugin=False)
    return build / "vidgan-client-check"


def run_tool(tool: Path, socket_path: Path, *args: str, timeout: float = 120) -> dict[str, str]:
    result = subprocess.run([str(tool), "--socket", str(socket_path), *args], capture_output=True, text=True,
                            timeout=timeout)
    line = result.stdout.strip().splitlines()[-1]
    fields = dict(part.split("=", 1) for part in line.split(" status=")[0].split())
    fields["status"] = line.split(" status=", 1)[1]
    fields["returncode"] = str(result.returncode)
    fields["stdout"] = result.stdout
    return fields


def printed_json(out: dict[str, str], key: str):
    """A ``key=JSON`` line the tool printed (``--print-schema 1``)."""
    line = next(line for line in out["stdout"].splitlines() if line.startswith(key + "="))
    return json.loads(line.split("=", 1)[1])


def test_without_a_server_every_frame_passes_through_at_once(check_tool, tmp_path):
    out = run_tool(check_tool, tmp_path / "none" / "serve.sock", "--frames", "30", "--fps", "60")
    assert out["processed"] == "0" and out["passthrough"] == "30"
    assert "not running" in out["status"]
    assert float(out["cost_ms_max"]) < 5.0  # never waits for the missing server


@pytest.mark.parametrize("fmt", ["bgra", "rgba"])
def test_processed_frames_are_the_servers_result_one_or_two_frames_late(check_tool, serve, fmt):
    out = run_tool(check_tool, serve.socket_path, "--chain", "hflip", "--format", fmt, "--size", "320x240",
                   "--frames", "60", "--fps", "30")
    assert out["returncode"] == "0" and out["bad"] == "0"  # mirrored, and from a recent frame
    assert int(out["processed"]) >= 50 and int(out["first_processed"]) <= 10


@pytest.mark.parametrize("fmt", ["nv12", "i420", "yuy2", "uyvy"])
def test_yuv_formats_round_trip(check_tool, serve, fmt):
    out = run_tool(check_tool, serve.socket_path, "--chain", "null", "--format", fmt, "--size", "640x360",
                   "--frames", "30", "--fps", "30")
    assert int(out["processed"]) >= 20, out


def test_server_killed_mid_stream_then_back(check_tool, tmp_path, start_serve):
    """Kill -9 the server after 2 s and start a new one at 4 s: frames pass through in between,
    the client reconnects by itself, and no frame is ever wrong."""
    socket_path = tmp_path / "run" / "serve.sock"
    serve = start_serve(socket_path)

    def chaos() -> None:
        time.sleep(2.0)
        serve.stop(signal.SIGKILL)
        time.sleep(2.0)
        start_serve(socket_path)

    thread = threading.Thread(target=chaos)
    thread.start()
    try:
        out = run_tool(check_tool, socket_path, "--chain", "hflip", "--frames", "240", "--fps", "30")
    finally:
        thread.join()
    assert out["bad"] == "0"
    assert int(out["reconnects"]) == 2
    assert int(out["longest_gap"]) >= 30  # about two seconds passed through
    assert int(out["processed"]) >= 100
    assert out["status"].startswith("running hflip")


def test_autostart_starts_the_server(check_tool, tmp_path):
    socket_path = tmp_path / "auto" / "serve.sock"
    try:
        out = run_tool(check_tool, socket_path, "--chain", "hflip", "--frames", "300", "--fps", "30",
                       "--serve-command", f"{sys.executable} -m vidgan serve")
        assert out["bad"] == "0" and int(out["processed"]) > 0, out
        assert (socket_path.parent / "serve.log").exists()
    finally:
        subprocess.run(["pkill", "-TERM", "-f", f"vidgan serve --socket {socket_path}"], check=False)


def test_unknown_style_is_reported_and_frames_pass_through(check_tool, serve):
    out = run_tool(check_tool, serve.socket_path, "--style", "sepia", "--frames", "60", "--fps", "30")
    assert out["processed"] == "0"
    assert "sepia" in out["status"] and "pass through" in out["status"]


@pytest.mark.parametrize("size", ["480x270", "160x120"])
def test_a_source_changing_size_mid_stream_is_reconfigured_on_the_same_connection(check_tool, serve, size):
    out = run_tool(check_tool, serve.socket_path, "--chain", "hflip", "--frames", "120", "--fps", "30",
                   "--resize-at", "50", "--resize", size)
    assert out["bad"] == "0" and out["reconnects"] == "1"
    assert int(out["processed_after_change"]) >= 50  # a few frames pass through while the server remaps
    assert out["status"] == f"running hflip on {size} bgra"


def test_new_settings_mid_stream_switch_the_pipeline_on_the_same_connection(check_tool, serve):
    out = run_tool(check_tool, serve.socket_path, "--chain", "hflip", "--frames", "120", "--fps", "30",
                   "--rechain-at", "50", "--rechain", "vflip")
    assert out["bad"] == "0" and out["reconnects"] == "1"  # hflip frames checked until the switch
    assert int(out["processed_after_change"]) >= 50
    assert out["status"] == "running vflip on 320x240 bgra"


def test_the_transport_hands_up_the_servers_option_schema(check_tool, serve):
    out = run_tool(check_tool, serve.socket_path, "--chain", "hflip", "--frames", "30", "--print-schema", "1")
    schema = option_schema(StylizeStage.Options, live_only=True)
    assert printed_json(out, "schema") == schema
    assert printed_json(out, "schema_objects") == schema  # nothing to rewrite: no choices yet


def test_options_go_to_the_server_by_their_schema_names(check_tool, serve):
    out = run_tool(check_tool, serve.socket_path, "--style", "van_gogh", "--option", "strength=0.5",
                   "--option", "scale=64", "--frames", "60", "--fps", "30", timeout=180)
    assert int(out["processed"]) > 0 and out["status"] == "running van_gogh on 320x240 bgra", out
    out = run_tool(check_tool, serve.socket_path, "--option", "strength=5", "--frames", "30")
    assert out["processed"] == "0"
    assert "strength must be in [0, 1]; got 5.0" in out["status"]


def test_choices_reach_libobs_as_objects_and_a_new_option_is_sent(check_tool, tmp_path, monkeypatch):
    options = extended(StylizeStage.Options)
    monkeypatch.setattr(StylizeStage, "Options", options)
    server = Server(tmp_path / "run" / "serve.sock", styles=["van_gogh"])
    server.bind()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        out = run_tool(check_tool, server.socket_path, "--chain", "null", "--option", "palette=cold",
                       "--option", "grain=0.5", "--frames", "30", "--print-schema", "1")
        bad = run_tool(check_tool, server.socket_path, "--option", "palette=sepia", "--frames", "20")
    finally:
        server.stop()
        thread.join(timeout=15)
    assert printed_json(out, "schema") == option_schema(options, live_only=True)
    palette = next(e for e in printed_json(out, "schema_objects") if e["name"] == "palette")
    assert palette["choices"] == [{"value": "warm"}, {"value": "cold"}]
    assert int(out["processed"]) > 0, out
    assert "palette must be one of warm, cold; got 'sepia'" in bad["status"]
