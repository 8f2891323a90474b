"""AtomicOutput: the output appears whole or not at all, never over the input, never unasked."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from vidgan.errors import OutputError
from vidgan.io.output import AtomicOutput, describe_os_error, same_file


def test_writes_go_to_a_hidden_temp_file_beside_the_target(tmp_path: Path) -> None:
    target = tmp_path / "clip.mp4"
    output = AtomicOutput(target)
    assert output.temp_path.parent == tmp_path
    assert output.temp_path.name == f".clip.partial-{os.getpid()}.mp4"  # keeps the suffix: muxers pick by it
    output.temp_path.write_bytes(b"video")
    assert not target.exists()
    output.commit()
    assert target.read_bytes() == b"video" and not output.temp_path.exists()


def test_discard_removes_the_temp_file_and_tolerates_its_absence(tmp_path: Path) -> None:
    output = AtomicOutput(tmp_path / "clip.mp4")
    output.temp_path.write_bytes(b"half")
    output.discard()
    output.discard()
    assert list(tmp_path.iterdir()) == []


def test_existing_target_needs_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "clip.mp4"
    target.write_bytes(b"old")
    with pytest.raises(OutputError, match="exists; pass -y to overwrite it"):
        AtomicOutput(target)
    output = AtomicOutput(target, overwrite=True)
    output.temp_path.write_bytes(b"new")
    output.commit()
    assert target.read_bytes() == b"new"


def test_a_target_that_appears_while_writing_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "clip.mp4"
    output = AtomicOutput(target)
    output.temp_path.write_bytes(b"mine")
    target.write_bytes(b"someone else's")
    with pytest.raises(OutputError, match="appeared while encoding"):
        output.commit()
    assert target.read_bytes() == b"someone else's"
    assert not output.temp_path.exists()


@pytest.mark.parametrize("overwrite", [False, True])
def test_the_input_is_never_the_output(tmp_path: Path, overwrite: bool) -> None:
    src = tmp_path / "in.mp4"
    src.write_bytes(b"input")
    (tmp_path / "sub").mkdir()
    (tmp_path / "alias.mp4").symlink_to(src)
    os.link(src, tmp_path / "hardlink.mp4")
    for spelling in (src, tmp_path / "sub" / ".." / "in.mp4", tmp_path / "alias.mp4", tmp_path / "hardlink.mp4"):
        with pytest.raises(OutputError, match="is the input"):
            AtomicOutput(spelling, overwrite=overwrite, inputs=(str(src),))
    assert src.read_bytes() == b"input"


def test_folder_problems(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a folder; give a file name"):
        AtomicOutput(tmp_path)
    with pytest.raises(OutputError, match="output folder .*missing does not exist"):
        AtomicOutput(tmp_path / "missing" / "clip.mp4")
    assert not (tmp_path / "missing").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders anyway")
def test_read_only_folder(tmp_path: Path) -> None:
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="is not writable"):
            AtomicOutput(tmp_path / "clip.mp4")
    finally:
        tmp_path.chmod(0o755)


def test_same_file(tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.write_bytes(b"")
    assert same_file(a, tmp_path / "." / "a")
    assert not same_file(a, tmp_path / "b")
    assert same_file(tmp_path / "x" / ".." / "b", tmp_path / "b")  # neither exists: compared by path


@pytest.mark.parametrize(
    "code, text",
    [(errno.ENOSPC, "disk full while writing out.mp4; nothing was left behind"),
     (errno.EACCES, "cannot write out.mp4: Permission denied"),
     (errno.EROFS, "cannot write out.mp4: Read-only file system")],
)
def test_os_errors_in_words(code: int, text: str) -> None:
    assert describe_os_error(OSError(code, os.strerror(code)), Path("out.mp4")) == text
