"""A filter gets a command of its own (``vidgan stylize``) with one flag per field of its Options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import vidgan.cli
from tests.media import write_video
from vidgan.commands import COMMANDS
from vidgan.commands._filter import filter_command
from vidgan.frame import Frame
from vidgan.graph.registry import register_filter
from vidgan.graph.stage import Stage, StageContext

SEEN: list[tuple[float, str]] = []


@register_filter("alias_probe")
class AliasProbe(Stage):
    """Records its options; passes frames through."""

    @dataclass(frozen=True)
    class Options:
        gain: float = 1.0
        label: str = "none"

    def __init__(self, options: Options, context: StageContext) -> None:
        SEEN.append((options.gain, options.label))

    def process(self, frame: Frame) -> list[Frame]:
        return [frame]


def test_alias_command_builds_the_filter_from_its_options(tmp_path: Path, monkeypatch) -> None:
    COMMANDS.names()  # load the built-in verbs first
    monkeypatch.setitem(COMMANDS._entries, "alias_probe", filter_command("alias_probe"))
    SEEN.clear()
    src = write_video(tmp_path / "in.mkv", size=(32, 24), frames=3, codec="ffv1")
    code = vidgan.cli.main(["alias_probe", str(src), "-o", str(tmp_path / "out.mkv"), "-c:v", "ffv1",
                            "--gain", "0.5", "--label", "a:b,c", "-vf", "hflip", "-q"])
    assert code == 0
    assert SEEN == [(0.5, "a:b,c")]  # separators in values survive the chain round trip
    assert (tmp_path / "out.mkv").exists()


def test_a_filter_without_a_command_is_not_a_verb(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        vidgan.cli.main(["no_such_filter_yet", "in.mp4", "-o", "out.mp4"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_stylize_flags_come_from_its_options(monkeypatch) -> None:
    import vidgan.commands._filter as filter_module

    seen: list[tuple[str, str | None]] = []
    monkeypatch.setattr(filter_module, "cmd_run", lambda args: seen.append((args.chain, args.preset)) or 0)
    assert vidgan.cli.main(["stylize", "in.mp4", "-o", "out.mp4", "--stylize-preset", "lite", "-preset", "fast",
                            "--compile", "1", "--overlap", "0", "--strength", "0.5"]) == 0
    assert vidgan.cli.main(["stylize", "in.mp4", "-o", "out.mp4", "--compile"]) == 0
    # --stylize-preset is the filter's preset (the encoder has -preset); --compile takes 1 or nothing
    assert seen == [("stylize=strength=0.5:preset=lite:compile=1:overlap=0", "fast"), ("stylize=compile=1", None)]
