"""The stylize filter's Options are the only declaration of its knobs: a field added there reaches
``-vf``, ``vidgan stylize``, ``vidgan live`` and the serve protocol's schema and CONFIGURE."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Literal

import pytest

import vidgan.cli
from vidgan.errors import FilterOptionError, ProtocolError
from vidgan.graph.registry import build_options
from vidgan.graph.spec import parse_args
from vidgan.options import option, option_schema
from vidgan.serve.client import ServeClient, ServerError
from vidgan.serve.protocol import Config, FrameLayout, MessageType, encode_text
from vidgan.serve.server import Server
from vidgan.stages.stylize import StylizeStage, live_chain, live_options

BASE = {"width": "64", "height": "48", "format": "bgra", "shm": "/vidgan-test"}


def extended(base: type) -> type:
    """``base`` with two more live options and one that is not live."""
    return dataclasses.make_dataclass(
        "Options",
        [
            ("grain", float, option(0.25, min=0.0, max=1.0, live=True, help="film grain over the result")),
            ("palette", Literal["warm", "cold"], option("warm", live=True, help="colour palette")),
            ("seed", int, option(0, help="noise seed")),
        ],
        bases=(base,),
        frozen=True,
    )


@pytest.fixture
def grainy(monkeypatch: pytest.MonkeyPatch) -> type:
    """The registered stylize filter with the extra options: one dataclass changed, nothing else."""
    options = extended(StylizeStage.Options)
    monkeypatch.setattr(StylizeStage, "Options", options)
    return options


def help_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        vidgan.cli.main([*argv, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def test_a_new_field_is_a_vf_option(grainy) -> None:
    options = build_options("stylize", grainy, parse_args("style=van_gogh:grain=0.5:palette=cold"))
    assert (options.grain, options.palette, options.strength) == (0.5, "cold", 1.0)
    with pytest.raises(FilterOptionError, match=r"stylize: grain must be in \[0, 1\]; got 2.0"):
        build_options("stylize", grainy, parse_args("grain=2"))


def test_a_new_field_is_a_flag_of_vidgan_stylize(grainy, capsys) -> None:
    text = help_text(capsys, "stylize")
    assert "--grain GRAIN" in text and "film grain over the result (default 0.25)" in text
    assert "--palette {warm,cold}" in text and "--seed SEED" in text


def test_a_new_live_field_is_a_flag_of_vidgan_live_and_a_non_live_one_is_not(grainy, capsys) -> None:
    text = help_text(capsys, "live")
    assert "--grain GRAIN" in text and "--palette {warm,cold}" in text
    assert "--seed" not in text
    assert "--strength STRENGTH" in text and "--flow" not in text  # only the live options


def test_a_new_live_field_is_in_the_live_chain(grainy) -> None:
    chain = live_chain(live_options(grain=0.5))
    assert chain == "stylize=style=van_gogh:strength=1:temporal=0.9:flow=fast:scale=0:grain=0.5:palette=warm"
    assert build_options("stylize", grainy, parse_args(chain.split("=", 1)[1])).grain == 0.5


def test_a_new_live_field_is_in_the_schema_the_server_sends_and_configure_takes_it(grainy, tmp_path: Path) -> None:
    server = Server(tmp_path / "run" / "serve.sock", styles=["van_gogh"])
    server.bind()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with ServeClient(server.socket_path) as client:
            client.hello()
            schema = client.option_schema
            assert schema == option_schema(grainy, live_only=True)
            assert [e["name"] for e in schema] == ["style", "strength", "temporal", "scale", "grain", "palette"]
            assert schema[4] == {"name": "grain", "type": "float", "default": 0.25, "min": 0.0, "max": 1.0,
                                 "help": "film grain over the result"}
            assert schema[5]["choices"] == ["warm", "cold"]
            layout = FrameLayout("bgra", 64, 48)
            client.configure(Config(layout, "/vidgan-unset", chain="null", stylize=live_options(grain=0.5)))
            client.send(MessageType.CONFIGURE, encode_text({**BASE, "shm": client.config.shm, "grain": "2"}))
            with pytest.raises(ServerError, match=r"grain must be in \[0, 1\]; got 2.0"):
                client.receive()
    finally:
        server.stop()
        thread.join(timeout=15)


def test_configure_fields_become_the_options_and_go_back_out(grainy) -> None:
    config = Config.from_fields({**BASE, "grain": "0.5", "palette": "cold", "seed": "7"})
    assert (config.stylize.grain, config.stylize.palette) == (0.5, "cold")
    assert config.stylize.seed == 0  # not a live option: an unknown key to the protocol, ignored
    assert config.stylize.flow == "fast"  # the live setting under the client's options
    assert Config.from_fields({k: str(v) for k, v in config.to_fields().items()}) == config
    assert ":grain=0.5:palette=cold" in config.pipeline_chain()
    with pytest.raises(ProtocolError, match=r"palette must be one of warm, cold; got 'sepia'"):
        Config.from_fields({**BASE, "palette": "sepia"})


def test_protocol_v1_fields_keep_their_meaning() -> None:
    config = Config.from_fields({**BASE, "style": "monet", "strength": "0.500", "temporal": "0.000", "scale": "240"})
    assert (config.stylize.style, config.stylize.strength, config.stylize.temporal, config.stylize.scale) == (
        "monet", 0.5, 0.0, 240)
    assert Config.from_fields(BASE).stylize == live_options()
    with pytest.raises(ProtocolError, match="scale must be 0..8192"):
        Config.from_fields({**BASE, "scale": "9000"})
