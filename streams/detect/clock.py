"""Event time of one signals partition, merged from the raw partitions that feed it.

Every raw partition is a *source* with its own watermark: ingest instances read raw
partitions at their own pace, and during a replay one partition can be days of event time
ahead of another. Taking the highest watermark would make the slower partitions' reports
late; taking the least (as Flink merges input channels) counts every report that is on
time within its own partition, whichever worker reads it and however fast. So alerts do
not depend on the number of workers or partitions.

A source that has sent nothing for ``idle_after`` seconds of wall time is idle and stops
holding event time back (Flink's ``withIdleness``): otherwise one quiet partition would
stop every window from closing. Sources never heard from count as silent since the clock
was made, so at start-up the first busy partition cannot race ahead of the others.
"""

from __future__ import annotations

__all__ = ["SourceClock"]

_NEVER = float("-inf")


class SourceClock:
    def __init__(self, sources: int, idle_after: float, started: float) -> None:
        self.idle_after = idle_after
        # source -> (watermark, wall time it last advanced or was heard from)
        self._sources: dict[int, tuple[float, float]] = {
            s: (_NEVER, started) for s in range(sources)
        }
        self._mark = _NEVER

    def update(self, source: int, watermark: float, now: float) -> None:
        held, _ = self._sources.get(source, (_NEVER, now))
        self._sources[source] = (max(held, watermark), now)

    @property
    def mark(self) -> float:
        """Event time as last returned by ``current``."""
        return self._mark

    def current(self, now: float) -> float:
        """The least watermark of the live sources; never moves back."""
        live = [mark for mark, heard in self._sources.values() if now - heard <= self.idle_after]
        if live:
            candidate = min(live)
        else:  # all idle: nothing is waiting on anyone, so the furthest source counts
            candidate = max((mark for mark, _ in self._sources.values()), default=_NEVER)
        self._mark = max(self._mark, candidate)
        return self._mark
