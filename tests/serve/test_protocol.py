"""The wire format: headers, text payloads, configurations and layouts, plus a fuzzed parser."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vidgan.serve.protocol import (
    HEADER,
    MAGIC,
    MAX_PAYLOAD,
    PROTOCOL_VERSION,
    Config,
    FrameLayout,
    MessageType,
    ProtocolError,
    decode_text,
    encode_text,
    pack_message,
    parse_header,
)


def test_header_round_trip():
    raw = pack_message(MessageType.CONFIGURE, b"abc", seq=7)
    header = parse_header(raw[: HEADER.size])
    assert (header.type, header.length, header.seq) == (MessageType.CONFIGURE, 3, 7)
    assert raw[HEADER.size :] == b"abc"


@pytest.mark.parametrize(
    "raw, words",
    [
        (HEADER.pack(b"XXXX", PROTOCOL_VERSION, 1, 0, 0), "magic"),
        (HEADER.pack(MAGIC, PROTOCOL_VERSION + 1, 1, 0, 0), "version"),
        (HEADER.pack(MAGIC, PROTOCOL_VERSION, 1, MAX_PAYLOAD + 1, 0), "limit"),
        (HEADER.pack(MAGIC, PROTOCOL_VERSION, 99, 0, 0), "unknown message type"),
        (b"short", "16 bytes"),
    ],
)
def test_bad_headers_are_refused(raw, words):
    with pytest.raises(ProtocolError, match=words):
        parse_header(raw)


def test_text_round_trip_and_errors():
    fields = {"client": "obs", "styles": "a,b"}
    assert decode_text(encode_text(fields)) == fields
    with pytest.raises(ProtocolError, match="key=value"):
        decode_text(b"no equals sign\n")
    with pytest.raises(ProtocolError, match="UTF-8"):
        decode_text(b"a=\xff\xfe\n")
    with pytest.raises(ProtocolError, match="newline"):
        encode_text({"a": "two\nlines"})


@pytest.mark.parametrize(
    "fmt, size",
    [("nv12", 64 * 48 * 3 // 2), ("i420", 64 * 48 * 3 // 2), ("yuy2", 64 * 48 * 2), ("uyvy", 64 * 48 * 2),
     ("bgra", 64 * 48 * 4), ("rgba", 64 * 48 * 4)],
)
def test_layout_sizes(fmt, size):
    layout = FrameLayout(fmt, 64, 48)
    assert layout.frame_bytes == size
    assert layout.shm_bytes(3) == 6 * size
    assert layout.output_offset(1, 3) == 4 * size


def test_layout_refuses_odd_yuv_and_unknown_formats():
    with pytest.raises(ProtocolError, match="even"):
        FrameLayout("nv12", 63, 48)
    with pytest.raises(ProtocolError, match="not supported"):
        FrameLayout("p010", 64, 48)
    assert FrameLayout("bgra", 63, 47).frame_bytes == 63 * 47 * 4
    with pytest.raises(ProtocolError, match="outside"):
        FrameLayout("bgra", 9000, 10)


GOOD = {"width": "64", "height": "48", "format": "nv12", "shm": "/vidgan-test"}


def test_config_from_fields_and_back():
    config = Config.from_fields({**GOOD, "style": "monet", "strength": "0.5", "scale": "240", "range": "full"})
    assert config.full_range and config.stylize.style == "monet" and config.stylize.scale == 240
    assert Config.from_fields({k: str(v) for k, v in config.to_fields().items()}) == config
    assert config.pipeline_chain() == "stylize=style=monet:strength=0.5:temporal=0.9:flow=fast:scale=240"
    assert Config.from_fields({**GOOD, "chain": "hflip"}).pipeline_chain() == "hflip"


@pytest.mark.parametrize(
    "change, words",
    [
        ({"shm": "/etc/passwd"}, "must match"),
        ({"shm": "/vidgan-../x/y"}, "must match"),
        ({"slots": "0"}, "slots"),
        ({"slots": "two"}, "bad number"),
        ({"strength": "1.5"}, r"\[0, 1\]"),
        ({"matrix": "2020"}, "601 or 709"),
        ({"range": "tv"}, "limited or full"),
        ({"width": "wide"}, "integers"),
    ],
)
def test_config_refuses_bad_fields(change, words):
    with pytest.raises(ProtocolError, match=words):
        Config.from_fields({**GOOD, **change})


def test_config_names_the_missing_field():
    with pytest.raises(ProtocolError, match="shm is missing"):
        Config.from_fields({k: v for k, v in GOOD.items() if k != "shm"})


@settings(max_examples=400, deadline=None)
@given(st.binary(min_size=HEADER.size, max_size=HEADER.size))
def test_fuzz_header_parser_only_raises_protocol_errors(raw):
    try:
        header = parse_header(raw)
    except ProtocolError:
        return
    assert header.length <= MAX_PAYLOAD and header.type in set(MessageType)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=512))
def test_fuzz_text_parser_only_raises_protocol_errors(raw):
    try:
        fields = decode_text(raw)
    except ProtocolError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["width", "height", "format", "shm", "slots", "strength", "temporal",
                                        "scale", "matrix", "range", "style", "chain", "other"]),
                       st.text(max_size=12)))
def test_fuzz_config_only_raises_protocol_errors(fields):
    try:
        config = Config.from_fields(fields)
    except ProtocolError:
        return
    assert 1 <= config.slots and config.layout.frame_bytes > 0
