"""Progress on long work: a bar on a terminal, JSON lines for programs, or nothing.

The bar (tqdm) shows frames, fps and ETA and stays silent when stderr is not a terminal, so
logs and pipes are not filled with carriage returns.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Literal

ProgressMode = Literal["auto", "json", "quiet"]


class Progress:
    """Counts frames and reports them in the chosen ``mode`` on stderr."""

    def __init__(self, total: int | None, *, mode: ProgressMode = "auto", desc: str = "", unit: str = "frame") -> None:
        self.total, self.mode, self.unit = total, mode, unit
        self.started = time.monotonic()
        self._last_json = 0.0
        self.done = 0
        self.produced = 0
        self._bar = None
        if mode == "auto":
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, desc=desc or None, unit=unit, file=sys.stderr, disable=None,
                dynamic_ncols=True, leave=False, smoothing=0.1,
            )

    def update(self, done: int, produced: int | None = None) -> None:
        """``done``: input units finished so far; ``produced``: output units (frames written)."""
        step = done - self.done
        self.done = done
        self.produced = produced if produced is not None else done
        if self._bar is not None and step > 0:
            self._bar.update(step)
        elif self.mode == "json":
            now = time.monotonic()
            if now - self._last_json >= 0.5:
                self._last_json = now
                self._emit(final=False)

    def _emit(self, *, final: bool) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        record = {
            "done": self.done,
            "produced": self.produced,
            "total": self.total,
            "fps": round(rate, 2),
            "elapsed_s": round(elapsed, 2),
            "eta_s": round((self.total - self.done) / rate, 1) if self.total and rate > 0 and not final else None,
            "final": final,
        }
        print(json.dumps(record), file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "json":
            self._emit(final=True)
