"""``vidgan styles``: the built-in and user styles with their model cards."""

from __future__ import annotations

import argparse
import json

from vidgan.commands import COMMANDS


def cmd_styles(args: argparse.Namespace) -> int:
    from vidgan.models.zoo import list_styles, user_dir

    entries = list_styles()
    if args.json:
        print(json.dumps([{"name": e.name, "preset": e.preset, "source": e.source, "weights": str(e.weights),
                           "card": e.card} for e in entries], indent=2))
        return 0
    if not entries:
        print(f"no styles installed (user styles go in {user_dir()})")
        return 0
    width = max(len(e.name) for e in entries)
    for entry in entries:
        print(f"{entry.name:<{width}}  {entry.source:8}  {entry.summary}")
    return 0


@COMMANDS.register("styles")
def add_parser(sub: argparse._SubParsersAction) -> None:
    styles = sub.add_parser("styles", help="list built-in and user styles with their model cards")
    styles.add_argument("--json", action="store_true")
    styles.set_defaults(func=cmd_styles)
