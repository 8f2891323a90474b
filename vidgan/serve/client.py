"""A Python client of ``vidgan serve``: what the tests, the benchmark and scripts talk to it with.

It follows the same steps as the OBS filter: HELLO, create the shared memory, CONFIGURE, then
per frame copy into an input slot, send FRAME and read DONE.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass, replace
from multiprocessing import shared_memory
from pathlib import Path

import numpy as np

from vidgan.errors import ServerError
from vidgan.serve import pixels
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
)


@dataclass(frozen=True)
class Done:
    slot: int
    status: DoneStatus
    timestamp_ns: int
    process_ns: int


class ServeClient:
    """One connection; ``with ServeClient(path) as client:`` closes the socket and frees the memory."""

    def __init__(self, socket_path: str | Path, *, timeout: float = 30.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(socket_path))
        self.shm: shared_memory.SharedMemory | None = None
        self.config: Config | None = None
        self.welcome: dict[str, str] = {}
        self._seq = 0

    def __enter__(self) -> ServeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- messages -----------------------------------------------------------------------------
    def send(self, kind: MessageType, payload: bytes = b"") -> int:
        self._seq += 1
        self.sock.sendall(pack_message(kind, payload, self._seq))
        return self._seq

    def receive(self) -> tuple[MessageType, bytes]:
        header = parse_header(recv_exact(self.sock, HEADER.size))
        payload = recv_exact(self.sock, header.length) if header.length else b""
        kind = MessageType(header.type)
        if kind is MessageType.ERROR:
            raise ServerError(decode_text(payload).get("message", "(no message)"))
        return kind, payload

    def _expect(self, wanted: MessageType) -> bytes:
        kind, payload = self.receive()
        if kind is not wanted:
            raise ProtocolError(f"expected {wanted.name}, got {kind.name}")
        return payload

    # -- steps ---------------------------------------------------------------------------------
    def hello(self, name: str = "python") -> dict[str, str]:
        self.send(MessageType.HELLO, encode_text({"client": name}))
        self.welcome = decode_text(self._expect(MessageType.WELCOME))
        return self.welcome

    @property
    def option_schema(self) -> list[dict]:
        """The stylizer's live options as the server described them in WELCOME (empty from older servers)."""
        return json.loads(self.welcome.get("options") or "[]")

    def configure(self, config: Config) -> dict[str, str]:
        """Create (or reuse) the shared memory for ``config`` and ask the server to map it."""
        needed = config.layout.shm_bytes(config.slots)
        if self.shm is None or self.shm.size < needed:
            self._free_shm()
            name = f"vidgan-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            self.shm = shared_memory.SharedMemory(name=name, create=True, size=needed)
        config = replace(config, shm="/" + self.shm.name.lstrip("/"))
        self.send(MessageType.CONFIGURE, encode_text(config.to_fields()))
        ready = decode_text(self._expect(MessageType.READY))
        self.config = config
        return ready

    def input_slot(self, slot: int) -> np.ndarray:
        config = self._configured()
        return pixels.slot_view(self._buffer(), config.layout.input_offset(slot), config.layout)

    def output_slot(self, slot: int) -> np.ndarray:
        config = self._configured()
        return pixels.slot_view(self._buffer(), config.layout.output_offset(slot, config.slots), config.layout)

    def submit(self, slot: int, timestamp_ns: int) -> None:
        self.send(MessageType.FRAME, FRAME_PAYLOAD.pack(slot, 0, timestamp_ns))

    def wait_done(self) -> Done:
        slot, status, timestamp_ns, process_ns = DONE_PAYLOAD.unpack(self._expect(MessageType.DONE))
        return Done(slot, DoneStatus(status), timestamp_ns, process_ns)

    def process(self, frame: np.ndarray, *, slot: int = 0, timestamp_ns: int = 0) -> np.ndarray:
        """Round trip one frame (already in the configured format's layout); returns a copy of the result."""
        np.copyto(self.input_slot(slot), frame)
        self.submit(slot, timestamp_ns)
        done = self.wait_done()
        if done.status is not DoneStatus.OK:
            raise ServerError("the server could not process the frame (see its log)")
        return self.output_slot(slot).copy()

    def _configured(self) -> Config:
        if self.config is None:
            raise ProtocolError("configure() first")
        return self.config

    def _buffer(self) -> memoryview:
        buf = None if self.shm is None else self.shm.buf
        if buf is None:  # closed since
            raise ProtocolError("configure() first")
        return buf

    def _free_shm(self) -> None:
        if self.shm is not None:
            self.shm.close()
            self.shm.unlink()
            self.shm = None

    def close(self) -> None:
        try:
            self.send(MessageType.BYE)
        except OSError:
            pass
        self.sock.close()
        self._free_shm()
