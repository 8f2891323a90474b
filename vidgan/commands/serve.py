"""``vidgan serve``: the live pipelines behind the OBS filter (Unix socket + shared memory)."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path

from vidgan.commands import COMMANDS
from vidgan.serve.paths import SOCKET_ENV, default_socket_path


def cmd_serve(args: argparse.Namespace) -> int:
    from vidgan.engine import resolve_device
    from vidgan.serve.server import ServeError, Server

    server = Server(args.socket or default_socket_path(), device=resolve_device(args.device))
    try:
        server.bind()
    except PermissionError as exc:  # ensure_private_dir's own message names the folder and the fix
        raise ServeError(str(exc)) from None
    except OSError as exc:
        raise ServeError(f"cannot listen on {server.socket_path}: {exc.strerror or exc}") from None
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: server.stop())
    if args.ready_file:
        Path(args.ready_file).write_text(str(server.socket_path))
    server.serve_forever()
    return 0


@COMMANDS.register("serve")
def add_parser(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser(
        "serve",
        help="run live pipelines for the OBS filter (Unix socket + shared memory)",
        description="Serve live stylization to local clients such as the OBS filter. Stops cleanly on SIGTERM or Ctrl-C.",
        allow_abbrev=False,
    )
    serve.add_argument("--socket", default=None,
                       help=f"socket path (default: ${SOCKET_ENV}, else $XDG_RUNTIME_DIR/vidgan/serve.sock)")
    serve.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    serve.add_argument("--ready-file", default=None, help=argparse.SUPPRESS)
    serve.add_argument("-v", "--verbose", action="store_true", help="log each client and its pipeline")
    serve.set_defaults(func=cmd_serve)

