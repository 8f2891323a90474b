"""``vidgan batch``: one pipeline over many files, resumable and safe to run twice at once.

Finished outputs are skipped (outputs only appear complete, through the atomic rename), so a
stopped batch resumes where it left off. Each output is claimed with a lock file created with
O_EXCL before work starts, so two batch processes on the same folder never process a file twice;
a lock left by a dead process is taken over. A failing file is recorded and the batch goes on.
"""

from __future__ import annotations

import glob
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from vidgan.errors import Interrupted, VidganError
from vidgan.io.encode import EncodeOptions
from vidgan.progress import ProgressMode

log = logging.getLogger("vidgan")


@dataclass
class BatchItem:
    source: str
    output: Path | None
    status: str = "pending"  # done | skipped | busy | failed
    message: str = ""
    seconds: float = 0.0


@dataclass
class BatchSummary:
    items: list[BatchItem] = field(default_factory=list)

    @property
    def failed(self) -> list[BatchItem]:
        return [item for item in self.items if item.status == "failed"]

    def count(self, status: str) -> int:
        return sum(item.status == status for item in self.items)

    def table(self) -> str:
        lines = [f"{'status':8} {'seconds':>8}  file"]
        for item in self.items:
            note = f"  ({item.message})" if item.message else ""
            lines.append(f"{item.status:8} {item.seconds:8.1f}  {item.source}{note}")
        lines.append(
            f"batch: {self.count('done')} done, {self.count('skipped')} skipped (already finished), "
            f"{self.count('busy')} busy (another process), {len(self.failed)} failed"
        )
        return "\n".join(lines)


def expand_inputs(patterns: list[str]) -> tuple[list[str], list[str]]:
    """Files matching the patterns (sorted, de-duplicated) and the patterns that matched nothing."""
    files: dict[str, None] = {}
    unmatched = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
        matches = [m for m in matches if os.path.isfile(m)]
        if not matches:
            unmatched.append(pattern)
        for match in matches:
            files.setdefault(os.path.normpath(match))
    return list(files), unmatched


def output_path(source: str, root: str, out_dir: Path, extension: str | None) -> Path:
    """Mirror ``source``'s place under ``root`` into ``out_dir`` so same-named files never collide."""
    relative = Path(os.path.relpath(source, root))
    if extension:
        relative = relative.with_suffix(extension if extension.startswith(".") else "." + extension)
    return out_dir / relative


class OutputClaim:
    """An O_EXCL lock file beside an output; stale locks of dead processes are taken over."""

    def __init__(self, output: Path) -> None:
        self.path = output.with_name(f".{output.name}.lock")

    def acquire(self) -> bool:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._holder_alive():
                    return False
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as lock:
                lock.write(str(os.getpid()))
            return True
        return False

    def _holder_alive(self) -> bool:
        try:
            pid = int(self.path.read_text().strip() or "0")
        except (OSError, ValueError):
            return True  # being written right now: treat as held
        if pid <= 0:
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def release(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def run_batch(
    patterns: list[str],
    out_dir: str | Path,
    *,
    chain: str = "null",
    encode: EncodeOptions | None = None,
    device: str = "auto",
    extension: str | None = None,
    overwrite: bool = False,
    allow_corrupt: bool = False,
    progress: ProgressMode = "auto",
) -> BatchSummary:
    """Process every matching file into ``out_dir``; returns a summary, raises only on interruption."""
    from vidgan.engine import transcode
    from vidgan.graph.pipeline import Pipeline

    Pipeline.from_chain(chain)  # a bad chain fails once, before any file is touched
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sources, unmatched = expand_inputs(patterns)
    summary = BatchSummary([BatchItem(p, None, "failed", "no file matches") for p in unmatched])
    root = os.path.commonpath([os.path.dirname(os.path.abspath(s)) for s in sources]) if sources else "."
    for index, source in enumerate(sources, 1):
        target = output_path(os.path.abspath(source), root, out_dir, extension)
        item = BatchItem(source, target)
        summary.items.append(item)
        if target.exists() and not overwrite:
            item.status = "skipped"
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        claim = OutputClaim(target)
        if not claim.acquire():
            item.status, item.message = "busy", "another vidgan batch is processing it"
            continue
        if progress != "quiet":
            print(f"vidgan: [{index}/{len(sources)}] {source} -> {target}", file=sys.stderr)
        started = time.monotonic()
        try:
            if target.exists() and not overwrite:  # finished by another process since we looked
                item.status = "skipped"
                continue
            transcode(source, target, chain=chain, encode=encode, device=device, overwrite=overwrite,
                      allow_corrupt=allow_corrupt, progress=progress)
            item.status = "done"
        except Interrupted:
            item.status, item.message = "failed", "interrupted"
            raise
        except VidganError as exc:
            item.status, item.message = "failed", str(exc)
            log.error("%s: %s", source, exc)
        finally:
            item.seconds = time.monotonic() - started
            claim.release()
    return summary
