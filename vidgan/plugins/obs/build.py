"""``vidgan obs-plugin``: build the OBS filter from the sources shipped in the package and install it.

The build runs CMake against the system's libobs (``libobs-dev`` on Debian/Ubuntu). The filter's
default server command is set to this interpreter (``python -m vidgan serve``), so OBS started
from a desktop menu, without this virtual environment on its PATH, can still start the server.
"""

from __future__ import annotations

import importlib.resources
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from vidgan.errors import ObsPluginBuildError

SOURCE_PACKAGE = "vidgan.plugins.obs"
PLUGIN_NAME = "obs-vidgan"


def default_plugin_root() -> Path:
    """OBS's per-user plugin folder on Linux (it also reads OBS_PLUGINS_PATH)."""
    return Path.home() / ".config" / "obs-studio" / "plugins"


def default_serve_command() -> str:
    return f"{shlex.quote(sys.executable)} -m vidgan serve"


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        lines = (result.stderr + result.stdout).splitlines()
        hint = next((line.strip() for line in lines if "libobs" in line and "not" in line.lower()), None)
        if hint:
            raise ObsPluginBuildError(f"{what}: libobs not found; install it: sudo apt install libobs-dev ({hint})")
        first = next((line.strip() for line in lines if "error" in line.lower()), lines[0] if lines else "no output")
        raise ObsPluginBuildError(f"{what} failed: {first}")


def _copy_tree(node, dest: Path) -> None:
    """Copy the shipped sources out of the package (a folder, or a zip for zipped installs)."""
    for child in node.iterdir():
        if child.name == "__pycache__":
            continue
        if child.is_dir():
            (dest / child.name).mkdir()
            _copy_tree(child, dest / child.name)
        else:
            (dest / child.name).write_bytes(child.read_bytes())


def build(build_dir: Path, *, plugin: bool = True, serve_command: str | None = None) -> Path:
    """Configure and build into ``build_dir``; returns it. ``plugin=False`` builds only the transport tools."""
    cmake = shutil.which("cmake")
    if cmake is None:
        raise ObsPluginBuildError("cmake is not on PATH; install it: sudo apt install cmake")
    with tempfile.TemporaryDirectory(prefix="vidgan-obs-src-") as tmp:
        source = Path(tmp)
        _copy_tree(importlib.resources.files(SOURCE_PACKAGE), source)
        _run(
            [cmake, "-S", str(source), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
             f"-DVIDGAN_OBS_PLUGIN={'ON' if plugin else 'OFF'}",
             f"-DVIDGAN_SERVE_COMMAND={serve_command or default_serve_command()}"],
            "configuring the OBS plugin",
        )
        _run([cmake, "--build", str(build_dir), "--parallel", str(os.cpu_count() or 1)], "building the OBS plugin")
    return build_dir


def install(dest_root: Path | None = None, *, serve_command: str | None = None) -> Path:
    """Build and copy ``obs-vidgan/{bin/64bit,data}`` under ``dest_root``, replacing an older install."""
    dest_root = Path(dest_root) if dest_root is not None else default_plugin_root()
    try:
        dest_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ObsPluginBuildError(f"cannot create {dest_root}: {exc.strerror or exc}") from None
    with tempfile.TemporaryDirectory(prefix="vidgan-obs-build-") as tmp:
        built = build(Path(tmp), serve_command=serve_command) / PLUGIN_NAME
        staging = Path(tempfile.mkdtemp(prefix=f".{PLUGIN_NAME}-", dir=dest_root))
        try:
            shutil.copytree(built, staging, dirs_exist_ok=True)
            target = dest_root / PLUGIN_NAME
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
        except OSError as exc:
            raise ObsPluginBuildError(f"cannot install into {dest_root}: {exc.strerror or exc}") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target
