"""``vidgan ffmpeg-plugin``: build the frei0r plugin so stock ``ffmpeg -vf frei0r=vidgan:...`` runs vidgan.

The plugin is compiled on the user's machine against this Python: the interpreter path and its
libpython are baked in, so the ffmpeg process embeds the same Python (venv included) that
``vidgan`` runs on. The C source ships inside the package (``vidgan/plugins/ffmpeg/frei0r/``).
"""

from __future__ import annotations

import importlib.resources
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from vidgan.errors import (
    CompilerNotFoundError,
    Frei0rHeaderNotFoundError,
    LibpythonNotFoundError,
    PluginBuildError,
    PythonHeadersNotFoundError,
)

SOURCE_PACKAGE = "vidgan.plugins.ffmpeg"
SOURCE_NAME = "vidgan_frei0r.c"
PLUGIN_FILE = "vidgan.so"


def default_plugin_dir() -> Path:
    """Where ffmpeg looks for frei0r plugins without FREI0R_PATH."""
    return Path.home() / ".frei0r-1" / "lib"


def _python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def find_compiler() -> str:
    """``$CC`` or ``cc``, as an absolute path."""
    name = os.environ.get("CC", "cc").split()[0]
    found = shutil.which(name)
    if found is None:
        raise CompilerNotFoundError(f"no C compiler found ({name!r} is not on PATH); install one: sudo apt install gcc")
    return found


def check_frei0r_header(compiler: str) -> None:
    """Ask the compiler itself, so CPATH and its default include directories count."""
    probe = subprocess.run(
        [compiler, "-E", "-x", "c", "-", "-o", os.devnull],
        input="#include <frei0r.h>\n", capture_output=True, text=True,
    )
    if probe.returncode != 0:
        raise Frei0rHeaderNotFoundError("frei0r.h not found; install it: sudo apt install frei0r-plugins-dev")


def python_include_dir() -> Path:
    include = Path(sysconfig.get_paths()["include"])
    if not (include / "Python.h").is_file():
        version = _python_version()
        raise PythonHeadersNotFoundError(
            f"Python.h for Python {version} not found in {include}; "
            f"install it: sudo apt install python{version}-dev"
        )
    return include


def find_libpython() -> Path:
    """The shared libpython this interpreter runs on (the plugin embeds it)."""
    var = sysconfig.get_config_var
    names = [n for n in (var("INSTSONAME"), var("LDLIBRARY")) if n and ".so" in n]
    dirs = [d for d in (var("LIBDIR"), var("LIBPL")) if d]
    if var("LIBDIR") and var("MULTIARCH"):
        dirs.append(os.path.join(var("LIBDIR"), var("MULTIARCH")))
    dirs.append(os.path.join(sys.base_prefix, "lib"))
    for directory in dirs:
        for name in names:
            candidate = Path(directory) / name
            if candidate.is_file():
                return candidate
    version = _python_version()
    raise LibpythonNotFoundError(
        f"no shared libpython{version} found for {sys.executable} (looked in {', '.join(dict.fromkeys(dirs))}); "
        f"install it: sudo apt install libpython{version}-dev (or use a Python built with --enable-shared)"
    )


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def compile_command(compiler: str, source: Path, output: Path, include: Path, libpython: Path) -> list[str]:
    """The ``cc`` invocation: a shared object that links libpython and finds it again through an rpath."""
    return [
        compiler, "-shared", "-fPIC", "-O2", "-Wall", "-fvisibility=hidden",
        f"-DVIDGAN_PYTHON_EXECUTABLE={_c_string(sys.executable)}",
        f"-DVIDGAN_LIBPYTHON={_c_string(str(libpython))}",
        f"-I{include}", str(source), "-o", str(output),
        str(libpython), f"-Wl,-rpath,{libpython.parent}", "-Wl,--no-undefined", "-ldl", "-lpthread",
    ]


def install_plugin(dest: Path | None = None) -> Path:
    """Compile the plugin into ``dest`` (default ~/.frei0r-1/lib) as vidgan.so, replaced atomically."""
    dest = Path(dest) if dest is not None else default_plugin_dir()
    compiler = find_compiler()
    check_frei0r_header(compiler)
    include = python_include_dir()
    libpython = find_libpython()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PluginBuildError(f"cannot create {dest}: {exc.strerror}") from None
    target = dest / PLUGIN_FILE
    source_ref = importlib.resources.files(SOURCE_PACKAGE).joinpath("frei0r", SOURCE_NAME)
    with importlib.resources.as_file(source_ref) as source:
        fd, tmp_name = tempfile.mkstemp(prefix=".vidgan-", suffix=".so.tmp", dir=dest)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            result = subprocess.run(
                compile_command(compiler, source, tmp, include, libpython), capture_output=True, text=True
            )
            if result.returncode != 0:
                errors = [line for line in result.stderr.splitlines() if "error" in line] or result.stderr.splitlines()
                raise PluginBuildError(f"compiling {source.name} failed: {(errors or ['no output'])[0].strip()}")
            tmp.chmod(0o755)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    return target


# -- command line -------------------------------------------------------------------------------
