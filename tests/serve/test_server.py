"""``vidgan serve`` with real sockets and shared memory: frames, settings, bad clients, shutdown."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vidgan.serve.client import ServeClient, ServerError
from vidgan.serve.protocol import (
    FRAME_PAYLOAD,
    HEADER,
    MAGIC,
    PROTOCOL_VERSION,
    Config,
    FrameLayout,
    MessageType,
    ProtocolError,
    encode_text,
    pack_message,
)
from vidgan.serve.server import ServeError, Server
from vidgan.stages.stylize import live_options

W, H = 64, 48


@pytest.fixture
def server(tmp_path: Path):
    srv = Server(tmp_path / "run" / "serve.sock", styles=["van_gogh", "monet"])
    srv.bind()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.stop()
    thread.join(timeout=15)
    assert not thread.is_alive()


def gradient_rgb() -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    return np.stack([x * 4, y * 5, (x + y) * 2], -1).astype(np.uint8)


def in_format(rgb: np.ndarray, fmt: str) -> np.ndarray:
    """``rgb`` in the protocol's layout for ``fmt`` (BT.709, limited range for YUV)."""
    names = {"nv12": "nv12", "i420": "yuv420p", "yuy2": "yuyv422", "bgra": "bgra", "rgba": "rgba"}
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    return frame.reformat(format=names[fmt], dst_colorspace=1, dst_color_range=1).to_ndarray()


def config(fmt: str = "bgra", *, chain: str = "", slots: int = 3, **stylize) -> Config:
    """A configuration; keywords other than ``chain`` and ``slots`` are the stylizer's live options."""
    return Config(layout=FrameLayout(fmt, W, H), shm="/vidgan-unset", slots=slots, chain=chain,
                  stylize=live_options(**stylize))


def test_socket_is_private(server):
    mode = stat.S_IMODE(server.socket_path.stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(server.socket_path.parent.stat().st_mode) == 0o700


def test_welcome_lists_styles(server):
    with ServeClient(server.socket_path) as client:
        welcome = client.hello("test")
    assert welcome["styles"] == "van_gogh,monet" and welcome["protocol"] == "1"


@pytest.mark.parametrize("fmt", ["nv12", "i420", "yuy2", "bgra", "rgba"])
def test_frames_go_through_the_chain(server, fmt):
    """hflip on the server: the output slot holds the mirrored input, in the client's own format."""
    rgb = gradient_rgb()
    with ServeClient(server.socket_path) as client:
        client.hello()
        ready = client.configure(config(fmt, chain="hflip"))
        assert int(ready["frame_bytes"]) == client.config.layout.frame_bytes
        frame = in_format(rgb, fmt)
        if fmt in ("bgra", "rgba"):
            frame[..., 3] = 77
        out = client.process(frame, slot=1, timestamp_ns=1000)
    expected = in_format(rgb[:, ::-1].copy(), fmt)
    if fmt in ("bgra", "rgba"):
        assert (out[..., 3] == 77).all()
        np.testing.assert_array_equal(out[..., :3], expected[..., :3])
    else:
        assert np.abs(out.astype(int) - expected.astype(int)).max() <= 2


def test_stylize_changes_pixels_and_keeps_state_across_frames(server):
    rgb = gradient_rgb()
    with ServeClient(server.socket_path) as client:
        client.hello()
        ready = client.configure(config("nv12", style="van_gogh", temporal=0.5))
        assert ready["pipeline"].startswith("stylize(van_gogh")
        frame = in_format(rgb, "nv12")
        outs = [client.process(frame, slot=i % 3, timestamp_ns=i * 40_000_000) for i in range(3)]
    assert np.abs(outs[0].astype(int) - frame.astype(int)).mean() > 3
    # Same input three times: the recurrence blends toward its previous output, so frame 2 != frame 0.
    assert not np.array_equal(outs[0], outs[2])


def test_unknown_style_is_an_error_the_client_can_recover_from(server):
    with ServeClient(server.socket_path) as client:
        client.hello()
        with pytest.raises(ServerError, match="sepia"):
            client.configure(config(style="sepia"))
        client.configure(config(chain="null"))
        frame = in_format(gradient_rgb(), "bgra")
        np.testing.assert_array_equal(client.process(frame), frame)


def test_slots_need_a_live_configuration(server):
    client = ServeClient(server.socket_path)
    with pytest.raises(ProtocolError, match=r"configure\(\) first"):
        client.input_slot(0)
    client.hello()
    client.configure(config(chain="null"))
    assert client.output_slot(2).shape == (H, W, 4)
    client.close()  # frees the shared memory: the slots are gone with it
    with pytest.raises(ProtocolError, match=r"configure\(\) first"):
        client.output_slot(0)


def test_frame_adding_chains_are_refused(server):
    with ServeClient(server.socket_path) as client:
        client.hello()
        with pytest.raises(ServerError, match="one frame out per frame in"):
            client.configure(config(chain="interpolate=factor=2"))


def raw_exchange(path: Path, data: bytes) -> bytes:
    """Send ``data``, then read until the server closes (or 5 s pass)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(path))
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return b""
        received = b""
        try:
            while chunk := sock.recv(4096):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return received


@pytest.mark.parametrize(
    "data, words",
    [
        (b"GET / HTTP/1.1\r\n\r\n", b"bad magic"),
        (HEADER.pack(MAGIC, PROTOCOL_VERSION, MessageType.HELLO, 10_000_000, 0), b"limit"),
        (pack_message(MessageType.FRAME, FRAME_PAYLOAD.pack(0, 0, 0)), b"before a successful CONFIGURE"),
        (pack_message(MessageType.DONE, b""), b"server-to-client"),
        (pack_message(MessageType.CONFIGURE, encode_text({"width": 64, "height": 48, "format": "bgra",
                                                           "shm": "/vidgan-does-not-exist"})), b"cannot map"),
    ],
)
def test_malformed_messages_are_rejected_and_the_server_lives_on(server, data, words):
    reply = raw_exchange(server.socket_path, data)
    assert reply[: len(MAGIC)] == MAGIC and words in reply
    with ServeClient(server.socket_path) as client:
        assert client.hello()["server"].startswith("vidgan/")


def test_out_of_range_slot_drops_only_that_client(server):
    with ServeClient(server.socket_path) as good, ServeClient(server.socket_path) as bad:
        good.hello(), bad.hello()
        good.configure(config(chain="null"))
        bad.configure(config(chain="null", slots=2))
        bad.submit(5, 0)
        with pytest.raises(ServerError, match="slot 5 is out of range"):
            bad.wait_done()
        frame = in_format(gradient_rgb(), "bgra")
        np.testing.assert_array_equal(good.process(frame, slot=2), frame)


def test_several_clients_at_once(server):
    results: dict[int, bool] = {}

    def work(number: int) -> None:
        with ServeClient(server.socket_path) as client:
            client.hello(f"c{number}")
            client.configure(config(chain="hflip"))
            frame = in_format(gradient_rgb(), "bgra")
            frame[..., 0] = number
            ok = True
            for i in range(5):
                out = client.process(frame, slot=i % 3, timestamp_ns=i)
                ok &= bool((out[..., 0] == number).all())
            results[number] = ok

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == {0: True, 1: True, 2: True, 3: True}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_fuzz_random_bytes_never_kill_the_server(server, data):
    raw_exchange(server.socket_path, data) if len(data) >= HEADER.size or not data else None
    with ServeClient(server.socket_path, timeout=10) as client:
        assert client.hello()["protocol"] == "1"


def test_a_live_server_is_not_replaced_and_a_stale_socket_is(server, tmp_path):
    with pytest.raises(ServeError, match="already listening"):
        Server(server.socket_path, styles=[]).bind()
    stale = tmp_path / "stale" / "serve.sock"
    stale.parent.mkdir(mode=0o700)
    leftover = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    leftover.bind(str(stale))
    leftover.close()  # the file stays, nobody listens
    srv = Server(stale, styles=[])
    srv.bind()
    srv._listener.close()


def test_open_folder_is_refused(tmp_path):
    folder = tmp_path / "open"
    folder.mkdir(mode=0o777)
    os.chmod(folder, 0o777)
    with pytest.raises(PermissionError, match="writable by others"):
        Server(folder / "serve.sock", styles=[]).bind()


def test_sigterm_stops_the_command_cleanly(tmp_path):
    sock_path = tmp_path / "run" / "serve.sock"
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vidgan", "serve", "--socket", str(sock_path), "--ready-file", str(ready)],
        stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert ready.exists(), proc.stderr.read() if proc.poll() is not None else "server did not start"
        client = ServeClient(sock_path)
        client.hello()
        client.configure(config(chain="null"))
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        client.close()
    finally:
        proc.kill() if proc.poll() is None else None
    assert proc.returncode == 0, err
    assert "stopped" in err
    assert not sock_path.exists()


@pytest.mark.parametrize("socket_path", ["/proc/no-such-folder/serve.sock", "/tmp/" + "x" * 120 + "/serve.sock"])
def test_unusable_socket_path_is_one_line(socket_path):
    from tests.runner import error_line, vidgan

    result = vidgan("serve", "--socket", socket_path)
    assert result.returncode != 0
    assert "cannot listen on" in error_line(result)
    if "xxx" in socket_path:
        shutil.rmtree(Path(socket_path).parent, ignore_errors=True)


def test_obs_plugin_install_into_an_uncreatable_folder_is_one_line():
    from tests.runner import error_line, vidgan

    result = vidgan("obs-plugin", "install", "--dest", "/proc/no-such-folder")
    assert result.returncode != 0
    assert "cannot create /proc/no-such-folder" in error_line(result)
