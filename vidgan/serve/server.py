"""``vidgan serve``: runs one live pipeline per connected client on frames in shared memory.

The accept loop runs on the main thread; each client gets a thread of its own with its own
pipeline, so a slow or broken client never stalls another. Anything a client sends that breaks
the protocol is logged and answered with ERROR, and only that client is dropped.
"""

from __future__ import annotations

import logging
import mmap
import os
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from vidgan import __version__
from vidgan.errors import ServeError, VidganError
from vidgan.frame import ColorInfo
from vidgan.graph.pipeline import Pipeline
from vidgan.graph.stage import StageContext
from vidgan.serve import pixels
from vidgan.serve.paths import ensure_private_dir
from vidgan.serve.protocol import (
    DONE_PAYLOAD,
    FRAME_PAYLOAD,
    HEADER,
    Config,
    DoneStatus,
    MessageType,
    ProtocolError,
    decode_text,
    encode_text,
    pack_message,
    parse_header,
    recv_exact,
    welcome_fields,
)

log = logging.getLogger("vidgan.serve")
#: Frame times arrive in nanoseconds; the pipeline sees them in this time base.
TIME_BASE = Fraction(1, 1_000_000_000)
#: Longest a client may take to finish a message it has started sending.
PAYLOAD_TIMEOUT_S = 5.0
MAX_CLIENTS = 16


class SharedMapping:
    """A client's shared-memory object mapped read-write; Python's resource tracker is kept out of it
    (it would unlink the client's object when the server exits)."""

    def __init__(self, name: str) -> None:
        import _posixshmem  # CPython's own binding of shm_open, as multiprocessing.shared_memory uses

        fd = _posixshmem.shm_open(name, os.O_RDWR, mode=0o600)
        try:
            info = os.fstat(fd)
            if info.st_uid != os.getuid():
                raise PermissionError(f"{name} belongs to another user")
            self.size = info.st_size
            self._map = mmap.mmap(fd, self.size) if self.size else None
        finally:
            os.close(fd)
        self.buf = memoryview(self._map) if self._map is not None else memoryview(b"")

    def close(self) -> None:
        self.buf.release()
        if self._map is not None:
            self._map.close()


@dataclass
class _Session:
    """The server side of one client: its configuration, mapping and pipeline."""

    sock: socket.socket
    number: int
    device: str
    styles: list[str]
    config: Config | None = None
    shm: SharedMapping | None = None
    pipeline: Pipeline | None = None
    color: ColorInfo | None = None
    frames: int = 0
    last_pts: int | None = None
    _send_lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, kind: MessageType, payload: bytes = b"", seq: int = 0) -> None:
        with self._send_lock:
            self.sock.sendall(pack_message(kind, payload, seq))

    def send_error(self, message: str, seq: int = 0) -> None:
        try:
            self.send(MessageType.ERROR, encode_text({"message": " ".join(message.split())[:1000]}), seq)
        except OSError:
            pass

    # -- message handlers ------------------------------------------------------------------
    def on_hello(self, payload: bytes, seq: int) -> None:
        fields = decode_text(payload)
        log.info("client %d: hello from %s", self.number, fields.get("client", "?"))
        welcome = welcome_fields(server=f"vidgan/{__version__}", device=self.device, styles=self.styles)
        self.send(MessageType.WELCOME, encode_text(welcome), seq)

    def on_configure(self, payload: bytes, seq: int) -> None:
        config = Config.from_fields(decode_text(payload))
        shm = self.shm if self.config is not None and self.config.shm == config.shm else None
        if shm is None:
            try:
                shm = SharedMapping(config.shm)
            except OSError as exc:
                raise ProtocolError(f"cannot map shared memory {config.shm}: {exc.strerror or exc}") from None
        needed = config.layout.shm_bytes(config.slots)
        if shm.size < needed:
            shm.close()
            raise ProtocolError(f"shared memory {config.shm} has {shm.size} bytes; {config.slots} slots need {needed}")
        chain = config.pipeline_chain()
        try:
            pipeline = Pipeline.from_chain(chain, StageContext(device=self.device, realtime=True))
        except VidganError as exc:
            if shm is not self.shm:
                shm.close()
            self.send_error(str(exc), seq)  # the client may fix its settings and configure again
            return
        if pipeline.frame_count_changers():
            if shm is not self.shm:
                shm.close()
            self.send_error(f"{chain!r} adds or drops frames; a live filter needs one frame out per frame in", seq)
            return
        if self.shm is not None and self.shm is not shm:
            self.shm.close()
        self.config, self.shm, self.pipeline, self.last_pts = config, shm, pipeline, None
        self.color = pixels.color_info(matrix=config.matrix, full_range=config.full_range)
        log.info("client %d: %dx%d %s, %s", self.number, config.layout.width, config.layout.height,
                 config.layout.format, pipeline.describe())
        self.send(
            MessageType.READY,
            encode_text({"frame_bytes": config.layout.frame_bytes, "slots": config.slots, "pipeline": pipeline.describe()}),
            seq,
        )

    def on_frame(self, payload: bytes, seq: int) -> None:
        if self.config is None or self.shm is None or self.pipeline is None:
            raise ProtocolError("FRAME before a successful CONFIGURE")
        if len(payload) != FRAME_PAYLOAD.size:
            raise ProtocolError(f"FRAME payload is {FRAME_PAYLOAD.size} bytes; got {len(payload)}")
        slot, _reserved, timestamp_ns = FRAME_PAYLOAD.unpack(payload)
        config = self.config
        if slot >= config.slots:
            raise ProtocolError(f"slot {slot} is out of range 0..{config.slots - 1}")
        started = time.perf_counter_ns()
        status = DoneStatus.OK
        try:
            self._process(slot, timestamp_ns)
        except Exception as exc:  # a failing model must not take the server down: the client passes through
            status = DoneStatus.FAILED
            log.error("client %d: frame failed: %s", self.number, " ".join(str(exc).split()) or type(exc).__name__)
        elapsed = time.perf_counter_ns() - started
        self.send(MessageType.DONE, DONE_PAYLOAD.pack(slot, int(status), timestamp_ns, elapsed), seq)

    def _process(self, slot: int, timestamp_ns: int) -> None:
        config, shm, pipeline, color = self.config, self.shm, self.pipeline, self.color
        # on_frame checked that CONFIGURE succeeded, which sets all four
        assert config is not None and shm is not None and pipeline is not None and color is not None
        layout = config.layout
        source = pixels.slot_view(shm.buf, layout.input_offset(slot), layout)
        target = pixels.slot_view(shm.buf, layout.output_offset(slot, config.slots), layout)
        pts = timestamp_ns if self.last_pts is None or timestamp_ns > self.last_pts else self.last_pts + 1
        self.last_pts = pts
        frame = pixels.frame_from_slot(source, layout, color, pts=pts, time_base=TIME_BASE)
        produced = pipeline.process(frame)
        if len(produced) != 1:
            raise ValueError(f"the chain gave {len(produced)} frames for one")
        pixels.write_frame_to_slot(produced[0], target, source, layout, color)
        self.frames += 1

    def close(self) -> None:
        self.pipeline = None
        if self.shm is not None:
            try:
                self.shm.close()
            except BufferError:  # a view into it is still alive somewhere; the OS unmaps at exit
                pass
            self.shm = None
        try:
            self.sock.close()
        except OSError:
            pass


class Server:
    """Listens on a Unix socket and serves each client on a thread of its own."""

    def __init__(self, socket_path: str | Path, *, device: str = "cpu", styles: list[str] | None = None) -> None:
        self.socket_path = Path(socket_path)
        self.device = device
        if styles is None:
            from vidgan.models.zoo import style_names

            styles = style_names()
        self.styles = styles
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._sessions: dict[int, _Session] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._count = 0

    # -- lifecycle --------------------------------------------------------------------------
    def bind(self) -> None:
        """Create the socket (mode 0600 in a 0700 folder); a live server at the path is an error."""
        ensure_private_dir(self.socket_path.parent)
        if self.socket_path.exists():
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(str(self.socket_path))
            except OSError:
                self.socket_path.unlink()  # stale: left by a server that died
            else:
                raise ServeError(f"a vidgan serve is already listening on {self.socket_path}")
            finally:
                probe.close()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            listener.bind(str(self.socket_path))
        finally:
            os.umask(old_umask)
        os.chmod(self.socket_path, 0o600)
        listener.listen(MAX_CLIENTS)
        self._listener = listener

    def serve_forever(self) -> None:
        if self._listener is None:
            self.bind()
        listener = self._listener
        assert listener is not None  # bind() sets it
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ)
        selector.register(self._wake_r, selectors.EVENT_READ)
        log.warning("vidgan serve: listening on %s (device %s)", self.socket_path, self.device)
        try:
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=1.0):
                    if key.fileobj is listener and not self._stop.is_set():
                        self._accept(listener)
        finally:
            selector.close()
            self._shutdown()

    def stop(self) -> None:
        """Ask the loop to end (safe from a signal handler or another thread)."""
        self._stop.set()
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def _shutdown(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        try:
            self.socket_path.unlink()
        except FileNotFoundError:
            pass
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            try:
                session.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=10.0)
        os.close(self._wake_r)
        os.close(self._wake_w)
        log.warning("vidgan serve: stopped")

    # -- clients ----------------------------------------------------------------------------
    def _accept(self, listener: socket.socket) -> None:
        conn, _ = listener.accept()
        with self._lock:
            self._count += 1
            number = self._count
            session = _Session(conn, number, self.device, self.styles)
            too_many = len(self._sessions) >= MAX_CLIENTS
            if not too_many:
                self._sessions[number] = session
        if too_many:
            session.send_error(f"too many clients (at most {MAX_CLIENTS})")
            session.close()
            return
        thread = threading.Thread(target=self._serve_client, args=(session,), name=f"vidgan-client-{number}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _serve_client(self, session: _Session) -> None:
        handlers = {
            MessageType.HELLO: session.on_hello,
            MessageType.CONFIGURE: session.on_configure,
            MessageType.FRAME: session.on_frame,
        }
        sock = session.sock
        try:
            while not self._stop.is_set():
                sock.settimeout(None)
                header = parse_header(recv_exact(sock, HEADER.size))
                sock.settimeout(PAYLOAD_TIMEOUT_S)
                payload = recv_exact(sock, header.length) if header.length else b""
                kind = MessageType(header.type)
                if kind is MessageType.BYE:
                    break
                handler = handlers.get(kind)
                if handler is None:
                    raise ProtocolError(f"{kind.name} is a server-to-client message")
                handler(payload, header.seq)
        except ProtocolError as exc:
            log.warning("client %d: dropped: %s", session.number, exc)
            session.send_error(str(exc))
        except TimeoutError:
            log.warning("client %d: dropped: a message stalled for more than %.0f s", session.number, PAYLOAD_TIMEOUT_S)
        except ConnectionError:
            pass
        except OSError as exc:
            if not self._stop.is_set():
                log.warning("client %d: connection error: %s", session.number, exc)
        finally:
            log.info("client %d: gone after %d frames", session.number, session.frames)
            with self._lock:
                self._sessions.pop(session.number, None)
            session.close()
