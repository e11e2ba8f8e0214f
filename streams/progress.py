"""Progress of long jobs (replay, backtest, benchmarks) on one rewritten stderr line."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """One line on stderr, rewritten at most once a second; silent when not a terminal.
    With a ``total`` it shows how much is left and an estimate of the time it takes."""

    def __init__(self, label: str, total: int | None, out: TextIO | None = None) -> None:
        self.label, self.total = label, total
        self.out = out if out is not None else sys.stderr
        self.started = self._last = time.monotonic()
        self.live = self.out.isatty()

    def update(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if not (force or (self.live and now - self._last >= 1.0)):
            return
        self._last = now
        rate = done / max(now - self.started, 1e-9)
        of = f"/{self.total:,}" if self.total else ""
        left = ""
        if self.total and rate > 0 and 0 < done < self.total and not force:
            left = f", {_duration((self.total - done) / rate)} left"
        end = "\n" if force else "\r"
        self.out.write(f"{self.label}: {done:,}{of} ({rate:,.0f}/s{left}){end}")
        self.out.flush()


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
