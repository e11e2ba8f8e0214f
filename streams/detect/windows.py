"""Event-time window arithmetic: which windows an instant falls in, and when one closes.

Windows are aligned to the Unix epoch: with ``step`` = ``size`` they tumble, with a
smaller ``step`` they hop and an instant belongs to ``size / step`` windows. A window
``[start, start + size)`` closes once the watermark reaches ``start + size + grace``;
an event arriving for a closed window is late (counted as such, never silently lost).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["WindowSpec"]


@dataclass(frozen=True, slots=True)
class WindowSpec:
    size: float
    step: float
    grace: float = 0.0

    def __post_init__(self) -> None:
        if self.size <= 0 or self.step <= 0 or self.grace < 0:
            raise ValueError("window size and step must be > 0 and grace >= 0")
        if self.step > self.size:
            # Gaps between windows would drop events on the floor.
            raise ValueError("window step must not exceed its size")

    def starts(self, ts: float) -> list[float]:
        """Starts of every window containing ``ts``, oldest first."""
        last = math.floor(ts / self.step) * self.step
        if last > ts:  # ts / step rounded up across an integer (tiny negative ts)
            last -= self.step
        first = last - (math.ceil(self.size / self.step) - 1) * self.step
        return [s for s in _frange(first, last, self.step) if s + self.size > ts]

    def closes_at(self, start: float) -> float:
        """The watermark at which the window starting at ``start`` closes."""
        return start + self.size + self.grace

    def last_closable(self, watermark: float) -> float:
        """Start of the newest window that a watermark closes."""
        return math.floor((watermark - self.size - self.grace) / self.step) * self.step


def _frange(first: float, last: float, step: float) -> list[float]:
    n = round((last - first) / step)
    return [first + i * step for i in range(n + 1)]
