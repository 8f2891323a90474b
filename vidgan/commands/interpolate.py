"""``vidgan interpolate IN -o OUT``: the ``interpolate`` filter as a command, one flag per option."""

from __future__ import annotations

from vidgan.commands import COMMANDS
from vidgan.commands._filter import filter_command

COMMANDS.add("interpolate", filter_command("interpolate"))
