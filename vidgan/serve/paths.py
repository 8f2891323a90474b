"""Where the server's socket lives: the user's runtime directory, private to the user."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

SOCKET_ENV = "VIDGAN_SERVE_SOCKET"


def default_socket_path() -> Path:
    """``$VIDGAN_SERVE_SOCKET``, else ``$XDG_RUNTIME_DIR/vidgan/serve.sock``, else a per-user temp folder."""
    explicit = os.environ.get(SOCKET_ENV)
    if explicit:
        return Path(explicit)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) if runtime else Path(tempfile.gettempdir()) / f"vidgan-{os.getuid()}"
    return base / "vidgan" / "serve.sock" if runtime else base / "serve.sock"


def ensure_private_dir(folder: Path) -> None:
    """Create ``folder`` mode 0700, or check that an existing one is ours and not open to others."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid():
        raise PermissionError(f"{folder} belongs to another user; pick another --socket")
    if stat.S_IMODE(info.st_mode) & 0o022:
        raise PermissionError(f"{folder} is writable by others; chmod 700 it or pick another --socket")
