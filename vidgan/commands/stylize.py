"""``vidgan stylize IN -o OUT``: the ``stylize`` filter as a command, one flag per option."""

from __future__ import annotations

from vidgan.commands import COMMANDS
from vidgan.commands._filter import filter_command

COMMANDS.add("stylize", filter_command("stylize"))
