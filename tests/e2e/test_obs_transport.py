"""The OBS filter's transport (vidgan/plugins/obs/src/vidgan-client.c) against a real ``vidgan serve``,
driven by the plugin's host tool at a fixed frame rate, as OBS's video thread would call it.

The machine running these may be busy, so a run ends on an event (so many processed frames, a
status, the test closing the tool's stdin), with ``--frames`` only as a generous cap, and the
tests check what happened and in which order, never how much of it fitted into some seconds.
"""

from __future__ import annotations

import json
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
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


#: Frames at 30 fps in the two minutes a run may take at most: the cap of runs that end on an event.
CAP = "3600"


def parse_line(line: str) -> dict[str, str]:
    """The tool's ``key=value ... status=free text`` line."""
    fields = dict(part.split("=", 1) for part in line.split(" status=")[0].split())
    fields["status"] = line.split(" status=", 1)[1].rstrip("\n")
    return fields


def run_tool(tool: Path, socket_path: Path, *args: str, timeout: float = 300) -> dict[str, str]:
    result = subprocess.run([str(tool), "--socket", str(socket_path), *args], capture_output=True, text=True,
                            timeout=timeout)
    fields = parse_line(result.stdout.strip().splitlines()[-1])
    fields["returncode"] = str(result.returncode)
    fields["stdout"] = result.stdout
    return fields


def printed_json(out: dict[str, str], key: str):
    """A ``key=JSON`` line the tool printed (``--print-schema 1``)."""
    line = next(line for line in out["stdout"].splitlines() if line.startswith(key + "="))
    return json.loads(line.split("=", 1)[1])


class StreamingTool:
    """The host tool sending frames until the test closes its stdin; the test waits on its per-frame lines."""

    def __init__(self, tool: Path, socket_path: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [str(tool), "--socket", str(socket_path), *args, "--frames", "100000", "--status-every", "1",
             "--stop-on-eof"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._last = ""

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, condition: Callable[[dict[str, str]], bool], what: str, timeout: float = 120) -> dict[str, str]:
        """The first frame line (from now on) that meets ``condition``; fails after ``timeout`` s without one."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no {what} within {timeout:.0f} s; last line: {self._last}")
            if line is None:
                pytest.fail(f"the host tool ended before {what}; last line: {self._last}")
            self._last = line.strip()
            if line.startswith("frame="):
                fields = parse_line(line)
                if condition(fields):
                    return fields

    def finish(self) -> dict[str, str]:
        """Close stdin (the tool stops at its next frame) and return its summary line."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self._reader.join(timeout=60)
        summary = ""
        while (line := self._lines.get_nowait()) is not None:
            summary = line if line.startswith("frames=") else summary
        fields = parse_line(summary)
        fields["returncode"] = str(self.process.returncode)
        return fields

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def consecutive(count: int, condition: Callable[[dict[str, str]], bool]) -> Callable[[dict[str, str]], bool]:
    """True on the ``count``-th frame line in a row that meets ``condition``."""
    run = 0

    def check(fields: dict[str, str]) -> bool:
        nonlocal run
        run = run + 1 if condition(fields) else 0
        return run >= count

    return check


def test_without_a_server_every_frame_passes_through_at_once(check_tool, tmp_path):
    out = run_tool(check_tool, tmp_path / "none" / "serve.sock", "--frames", "30", "--fps", "60")
    assert out["processed"] == "0" and out["passthrough"] == "30"
    assert "not running" in out["status"]
    # Never waits for the missing server: connecting is the client's thread's job, which retries once
    # a second; a frame waiting for it would take that second, scheduling noise takes far less.
    assert float(out["cost_ms_max"]) < 500.0


@pytest.mark.parametrize("fmt", ["bgra", "rgba"])
def test_processed_frames_are_the_servers_result_one_or_two_frames_late(check_tool, serve, fmt):
    out = run_tool(check_tool, serve.socket_path, "--chain", "hflip", "--format", fmt, "--size", "320x240",
                   "--until-processed", "50", "--frames", CAP, "--fps", "30")
    assert out["returncode"] == "0" and out["bad"] == "0"  # mirrored, and from a recent frame
    assert out["processed"] == "50", out


@pytest.mark.parametrize("fmt", ["nv12", "i420", "yuy2", "uyvy"])
def test_yuv_formats_round_trip(check_tool, serve, fmt):
    out = run_tool(check_tool, serve.socket_path, "--chain", "null", "--format", fmt, "--size", "640x360",
                   "--until-processed", "20", "--frames", CAP, "--fps", "30")
    assert out["processed"] == "20", out


def test_server_killed_mid_stream_then_back(check_tool, tmp_path, start_serve):
    """Kill -9 the server mid-stream and start a new one: frames pass through in between, the client
    reconnects by itself, and no frame is ever wrong."""
    socket_path = tmp_path / "run" / "serve.sock"
    serve = start_serve(socket_path)
    tool = StreamingTool(check_tool, socket_path, "--chain", "hflip", "--fps", "30")
    try:
        tool.wait_for(lambda f: f["processed"] == "1", "processed frame from the first server")
        serve.stop(signal.SIGKILL)
        tool.wait_for(consecutive(30, lambda f: f["processed"] == "0"), "30 frames passed through in a row")
        start_serve(socket_path)  # returns once it listens; the tool keeps sending meanwhile
        after = tool.wait_for(lambda f: f["processed"] == "1", "processed frame from the second server")
        assert after["reconnects"] == "2"  # the first connection, and one to the server started again
        out = tool.finish()
    finally:
        tool.kill()
    assert out["bad"] == "0", out  # every processed frame mirrored and recent, before and after
    assert out["reconnects"] == "2"  # no connection attempt succeeded while no server ran
    assert int(out["longest_gap"]) >= 30
    assert out["status"].startswith("running hflip"), out


def test_autostart_starts_the_server(check_tool, tmp_path):
    socket_path = tmp_path / "auto" / "serve.sock"
    try:
        out = run_tool(check_tool, socket_path, "--chain", "hflip", "--until-processed", "1", "--frames", CAP,
                       "--fps", "30", "--serve-command", f"{sys.executable} -m vidgan serve")
        assert out["bad"] == "0" and int(out["processed"]) > 0, out
        assert (socket_path.parent / "serve.log").exists()
    finally:
        subprocess.run(["pkill", "-TERM", "-f", f"vidgan serve --socket {socket_path}"], check=False)


def test_unknown_style_is_reported_and_frames_pass_through(check_tool, serve):
    tool = StreamingTool(check_tool, serve.socket_path, "--style", "sepia", "--fps", "30")
    try:
        tool.wait_for(lambda f: "sepia" in f["status"] and "pass through" in f["status"],
                      "status naming the unknown style")
        out = tool.finish()
    finally:
        tool.kill()
    assert out["processed"] == "0"
    assert "sepia" in out["status"] and "pass through" in out["status"]


@pytest.mark.parametrize("size", ["480x270", "160x120"])
def test_a_source_changing_size_mid_stream_is_reconfigured_on_the_same_connection(check_tool, serve, size):
    out = run_tool(check_tool, serve.socket_path, "--chain", "hflip", "--until-processed", "50", "--frames", CAP,
                   "--fps", "30", "--resize-at", "50", "--resize", size)
    assert out["bad"] == "0" and out["reconnects"] == "1"
    assert out["processed_after_change"] == "50", out  # a few frames pass through while the server remaps
    assert out["status"] == f"running hflip on {size} bgra"


def test_new_settings_mid_stream_switch_the_pipeline_on_the_same_connection(check_tool, serve):
    out = run_tool(check_tool, serve.socket_path, "--chain", "hflip", "--until-processed", "50", "--frames", CAP,
                   "--fps", "30", "--rechain-at", "50", "--rechain", "vflip")
    assert out["bad"] == "0" and out["reconnects"] == "1"  # hflip frames checked until the switch
    assert out["processed_after_change"] == "50", out
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
