"""The wire protocol between ``vidgan serve`` and its clients (the OBS filter, tests, tools).

Control messages travel over a Unix domain socket; pixels travel through a POSIX shared-memory
object that the client creates and the server maps. Every message is a 16-byte little-endian
header followed by ``length`` payload bytes::

    magic  4s  b"VGSV"
    version u16  PROTOCOL_VERSION
    type    u16  MessageType
    length  u32  payload bytes, at most MAX_PAYLOAD
    seq     u32  chosen by the sender; replies echo the request's

Text payloads are UTF-8 ``key=value`` lines (unknown keys are ignored, so either side can grow);
FRAME and DONE carry small fixed binary structs. The stylizer's settings are the live options of
the ``stylize`` filter: WELCOME describes them (:func:`welcome_fields`) and CONFIGURE sets them by
name, so a new live option reaches every client without a change here. docs/protocol.md is the
full description, and ``vidgan/plugins/obs/src/vidgan-protocol.h`` is its C twin: change both
together.
"""

from __future__ import annotations

import enum
import json
import re
import socket
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vidgan.errors import FilterOptionError, ProtocolError
from vidgan.options import format_value, live_option_names, option_schema, parse_values

if TYPE_CHECKING:
    from vidgan.stages.stylize import StylizeStage

MAGIC = b"VGSV"
PROTOCOL_VERSION = 1
HEADER = struct.Struct("<4sHHII")
MAX_PAYLOAD = 64 * 1024
FRAME_PAYLOAD = struct.Struct("<IIq")  # slot, reserved, timestamp_ns
DONE_PAYLOAD = struct.Struct("<IIqQ")  # slot, status, timestamp_ns, process_ns
MAX_SLOTS = 8
MAX_DIMENSION = 8192
#: Shared-memory names a client may ask the server to map: POSIX names under a fixed prefix,
#: so a client cannot point the server at some other program's memory by accident.
SHM_NAME = re.compile(r"^/vidgan-[A-Za-z0-9_.-]{1,200}$")


class MessageType(enum.IntEnum):
    HELLO = 1  # client -> server, text: client=NAME
    WELCOME = 2  # server -> client, text: server, protocol, device, styles (comma separated), options (JSON)
    CONFIGURE = 3  # client -> server, text: see Config
    READY = 4  # server -> client, text: frame_bytes, slots, pipeline
    FRAME = 5  # client -> server, FRAME_PAYLOAD: input slot k is filled, please process
    DONE = 6  # server -> client, DONE_PAYLOAD: output slot k holds the result (status 0) or not
    ERROR = 7  # server -> client, text: message (one line); the server closes after fatal ones
    BYE = 8  # client -> server, empty: goodbye


class DoneStatus(enum.IntEnum):
    OK = 0
    FAILED = 1  # the pipeline raised; the output slot is unchanged and the client passes through


@dataclass(frozen=True)
class Header:
    type: int
    length: int
    seq: int = 0
    version: int = PROTOCOL_VERSION

    def pack(self) -> bytes:
        return HEADER.pack(MAGIC, self.version, self.type, self.length, self.seq)


def parse_header(raw: bytes) -> Header:
    """Check a 16-byte header; anything malformed raises :class:`ProtocolError`."""
    if len(raw) != HEADER.size:
        raise ProtocolError(f"header is {HEADER.size} bytes; got {len(raw)}")
    magic, version, kind, length, seq = HEADER.unpack(raw)
    if magic != MAGIC:
        raise ProtocolError(f"bad magic {magic!r}; expected {MAGIC!r} (not a vidgan serve client?)")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {version} is not supported; this server speaks {PROTOCOL_VERSION}")
    if length > MAX_PAYLOAD:
        raise ProtocolError(f"payload of {length} bytes is over the {MAX_PAYLOAD}-byte limit")
    try:
        MessageType(kind)
    except ValueError:
        raise ProtocolError(f"unknown message type {kind}") from None
    return Header(type=kind, length=length, seq=seq, version=version)


def recv_exact(sock: socket.socket, size: int) -> bytes:
    """Exactly ``size`` bytes from a stream socket; the peer closing first raises ConnectionResetError."""
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionResetError("the other side closed the connection")
        data += chunk
    return bytes(data)


def pack_message(kind: MessageType, payload: bytes = b"", seq: int = 0) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError(f"payload of {len(payload)} bytes is over the {MAX_PAYLOAD}-byte limit")
    return Header(type=int(kind), length=len(payload), seq=seq).pack() + payload


def encode_text(fields: dict[str, object]) -> bytes:
    """``key=value`` lines; values may not contain newlines."""
    lines = []
    for key, value in fields.items():
        text = str(value)
        if "\n" in text or "=" in key or "\n" in key:
            raise ProtocolError(f"text field {key!r} cannot hold a newline or '='")
        lines.append(f"{key}={text}")
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def decode_text(payload: bytes) -> dict[str, str]:
    """Parse ``key=value`` lines; bad UTF-8 or a line without ``=`` raises :class:`ProtocolError`."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"text payload is not UTF-8: {exc.reason} at byte {exc.start}") from None
    fields: dict[str, str] = {}
    for line in text.split("\n"):
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep or not key:
            raise ProtocolError(f"text payload line {line[:40]!r} is not key=value")
        fields[key.strip()] = value.strip()
    return fields


@dataclass(frozen=True)
class FrameLayout:
    """Where one frame's planes sit inside a slot: tightly packed, plane after plane."""

    format: str
    width: int
    height: int

    #: Pixel formats by their protocol names (OBS's names for them).
    FORMATS = ("nv12", "i420", "yuy2", "uyvy", "bgra", "rgba")

    def __post_init__(self) -> None:
        if self.format not in self.FORMATS:
            raise ProtocolError(f"pixel format {self.format!r} is not supported; use one of {', '.join(self.FORMATS)}")
        if not (2 <= self.width <= MAX_DIMENSION and 2 <= self.height <= MAX_DIMENSION):
            raise ProtocolError(f"frame size {self.width}x{self.height} is outside 2..{MAX_DIMENSION}")
        if self.format in ("nv12", "i420", "yuy2", "uyvy") and (self.width % 2 or self.height % 2):
            raise ProtocolError(f"{self.format} frames need an even width and height; got {self.width}x{self.height}")

    @property
    def frame_bytes(self) -> int:
        w, h = self.width, self.height
        if self.format in ("nv12", "i420"):
            return w * h * 3 // 2
        if self.format in ("yuy2", "uyvy"):
            return w * h * 2
        return w * h * 4

    def shm_bytes(self, slots: int) -> int:
        """Input slots first, then as many output slots: input k at k, output k at slots + k."""
        return 2 * slots * self.frame_bytes

    def input_offset(self, slot: int) -> int:
        return slot * self.frame_bytes

    def output_offset(self, slot: int, slots: int) -> int:
        return (slots + slot) * self.frame_bytes


def _stylize_options() -> type:
    from vidgan.graph.registry import FILTERS

    return FILTERS.get("stylize").Options


def _live_stylizer(values: dict[str, Any] | None = None) -> StylizeStage.Options:
    from vidgan.stages.stylize import live_options

    return live_options(**(values or {}))


def welcome_fields(*, server: str, device: str, styles: list[str]) -> dict[str, object]:
    """What WELCOME says: who answers, and the stylizer's live options as a JSON schema
    (:func:`vidgan.options.option_schema`) that clients build their controls from."""
    return {
        "server": server,
        "protocol": PROTOCOL_VERSION,
        "device": device,
        "styles": ",".join(styles),
        "options": json.dumps(option_schema(_stylize_options(), live_only=True), separators=(",", ":")),
    }


@dataclass(frozen=True)
class Config:
    """What a CONFIGURE message asks for: the frames the client sends and what to do with them.

    ``stylize`` is the stylizer's options: the live setting with the client's live options over it.
    """

    layout: FrameLayout
    shm: str
    slots: int = 3
    full_range: bool = False
    matrix: int = 709  # 601 or 709
    stylize: StylizeStage.Options = field(default_factory=_live_stylizer)
    chain: str = ""

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> Config:
        try:
            width, height = int(fields["width"]), int(fields["height"])
            fmt, shm = fields["format"], fields["shm"]
        except KeyError as exc:
            raise ProtocolError(f"CONFIGURE needs width, height, format and shm; {exc.args[0]} is missing") from None
        except ValueError:
            raise ProtocolError("CONFIGURE width and height must be integers") from None
        if not SHM_NAME.match(shm):
            raise ProtocolError(f"shared-memory name {shm[:60]!r} must match {SHM_NAME.pattern}")
        try:
            slots = int(fields.get("slots", 3))
            matrix = int(fields.get("matrix", 709))
        except ValueError as exc:
            raise ProtocolError(f"CONFIGURE has a bad number: {exc}") from None
        if not 1 <= slots <= MAX_SLOTS:
            raise ProtocolError(f"slots must be 1..{MAX_SLOTS}; got {slots}")
        if matrix not in (601, 709):
            raise ProtocolError(f"matrix must be 601 or 709; got {matrix}")
        color_range = fields.get("range", "limited")
        if color_range not in ("limited", "full"):
            raise ProtocolError(f"range must be limited or full; got {color_range!r}")
        return cls(
            layout=FrameLayout(fmt, width, height),
            shm=shm,
            slots=slots,
            full_range=color_range == "full",
            matrix=matrix,
            stylize=_stylizer_from_fields(fields),
            chain=fields.get("chain", ""),
        )

    def to_fields(self) -> dict[str, object]:
        fields: dict[str, object] = {
            "width": self.layout.width,
            "height": self.layout.height,
            "format": self.layout.format,
            "shm": self.shm,
            "slots": self.slots,
            "range": "full" if self.full_range else "limited",
            "matrix": self.matrix,
        }
        for name in live_option_names(type(self.stylize)):
            fields[name] = format_value(getattr(self.stylize, name))
        if self.chain:
            fields["chain"] = self.chain
        return fields

    def pipeline_chain(self) -> str:
        """The ``-vf`` chain this configuration runs: the stylizer in its live setting, or ``chain``."""
        if self.chain:
            return self.chain
        from vidgan.stages.stylize import live_chain

        return live_chain(self.stylize)


def _stylizer_from_fields(fields: dict[str, str]) -> StylizeStage.Options:
    """The live options CONFIGURE names, checked by the options dataclass (other keys are not ours)."""
    options_cls = _stylize_options()
    try:
        stylize = _live_stylizer(parse_values("stylize", options_cls, fields, only=live_option_names(options_cls)))
    except FilterOptionError as exc:
        raise ProtocolError(str(exc)) from None
    if not 0 <= stylize.scale <= MAX_DIMENSION:  # the protocol's own bound on a processing size
        raise ProtocolError(f"scale must be 0..{MAX_DIMENSION}; got {stylize.scale}")
    return stylize
