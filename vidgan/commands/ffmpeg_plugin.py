"""``vidgan ffmpeg-plugin install|path``: build the frei0r plugin that runs vidgan filters inside ffmpeg."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vidgan.commands import COMMANDS
from vidgan.plugins.ffmpeg.build import default_plugin_dir, install_plugin


def cmd_install(args: argparse.Namespace) -> int:
    target = install_plugin(Path(args.dest).expanduser() if args.dest else None)
    print(f"vidgan: frei0r plugin installed: {target}")
    print(f"vidgan: it runs vidgan filters with {sys.executable}")
    if target.parent.resolve() == default_plugin_dir().resolve():
        print("vidgan: ffmpeg finds it there: ffmpeg -i IN -vf frei0r=vidgan:hflip OUT")
    else:
        print(f"vidgan: point ffmpeg at it: export FREI0R_PATH={target.parent}")
    return 0


def cmd_path(args: argparse.Namespace) -> int:
    print(default_plugin_dir())
    return 0


@COMMANDS.register("ffmpeg-plugin")
def add_parser(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("ffmpeg-plugin", help="build the frei0r plugin that runs vidgan filters inside ffmpeg",
                           allow_abbrev=False)
    actions = group.add_subparsers(dest="plugin_command", metavar="{install,path}", required=True,
                                  parser_class=type(group))
    install = actions.add_parser("install", help="compile the plugin (needs cc, frei0r.h, Python headers)",
                                 allow_abbrev=False)
    install.add_argument("--dest", default=None, metavar="DIR",
                         help=f"folder for vidgan.so (default {default_plugin_dir()}; elsewhere set FREI0R_PATH=DIR)")
    install.set_defaults(func=cmd_install)
    path = actions.add_parser("path", help="print the default plugin folder", allow_abbrev=False)
    path.set_defaults(func=cmd_path)
