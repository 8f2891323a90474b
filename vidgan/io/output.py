"""Atomic output files: write to a temporary file beside the target, rename when complete.

A run that fails or is interrupted leaves no partial file, the input is never overwritten,
and an existing output is only replaced when the caller says so (``-y``).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from vidgan.errors import OutputError


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


class AtomicOutput:
    """Reserve ``target``; ``temp_path`` is where to write; ``commit`` renames, ``discard`` removes."""

    def __init__(self, target: str | os.PathLike, *, overwrite: bool = False, inputs: tuple[str, ...] = ()) -> None:
        self.target = Path(target)
        for src in inputs:
            if os.path.exists(src) and same_file(src, self.target):
                raise OutputError(f"output {self.target} is the input; choose another output path")
        if self.target.is_dir():
            raise OutputError(f"output {self.target} is a folder; give a file name")
        if self.target.exists() and not overwrite:
            raise OutputError(f"output {self.target} exists; pass -y to overwrite it")
        folder = self.target.parent
        if not folder.is_dir():
            raise OutputError(f"output folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OutputError(f"output folder {folder} is not writable")
        self.overwrite = overwrite
        self.temp_path = folder / f".{self.target.stem}.partial-{os.getpid()}{self.target.suffix}"

    def commit(self) -> None:
        if self.target.exists() and not self.overwrite:
            self.discard()
            raise OutputError(f"output {self.target} appeared while encoding; pass -y to overwrite it")
        os.replace(self.temp_path, self.target)

    def discard(self) -> None:
        try:
            self.temp_path.unlink()
        except FileNotFoundError:
            pass


def describe_os_error(exc: OSError, target: Path | str) -> str:
    if exc.errno == errno.ENOSPC:
        return f"disk full while writing {target}; nothing was left behind"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write {target}: {os.strerror(exc.errno)}"
    return f"cannot write {target}: {exc.strerror or exc}"
