"""``vidgan obs-plugin install``: build the OBS Studio filter with CMake and install it for this user."""

from __future__ import annotations

import argparse
from pathlib import Path

from vidgan.commands import COMMANDS
from vidgan.plugins.obs.build import default_plugin_root, default_serve_command, install


def cmd_install(args: argparse.Namespace) -> int:
    target = install(Path(args.dest).expanduser() if args.dest else None, serve_command=args.serve_command)
    print(f"vidgan: OBS plugin installed: {target}")
    print(f"vidgan: it starts the server with: {args.serve_command or default_serve_command()}")
    if target.parent.resolve() != default_plugin_root().resolve():
        print(f"vidgan: OBS reads per-user plugins from {default_plugin_root()}; move {target.name} there")
    print("vidgan: restart OBS, then add 'vidgan stylize' to a video source's Filters")
    return 0


@COMMANDS.register("obs-plugin")
def add_parser(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("obs-plugin", help="build and install the OBS Studio filter", allow_abbrev=False)
    actions = group.add_subparsers(dest="plugin_command", metavar="{install}", required=True,
                                  parser_class=type(group))
    install_cmd = actions.add_parser("install", help="build with cmake against libobs and install for this user",
                                     allow_abbrev=False)
    install_cmd.add_argument("--dest", default=None, metavar="DIR",
                             help=f"plugin root (default {default_plugin_root()})")
    install_cmd.add_argument("--serve-command", default=None,
                             help="command the filter runs to start the server (default: this Python -m vidgan serve)")
    install_cmd.set_defaults(func=cmd_install)
