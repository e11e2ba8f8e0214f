"""One raw partition's event time, robust to an outlet whose clock is wrong.

Kafka Streams and Flink take a partition's event time to be the highest timestamp read
from it. One outlet whose ``published_at`` runs three hours ahead (a time-zone mistake,
too small for the ``max_event_ahead`` dead-letter rule) then drags event time three hours
ahead, and every honest report after it arrives late for its windows.

Here each publisher keeps its own highest ``published_at``, and the partition's event time
is the ``outlets``-th highest of those (2 by default): one outlet, however far ahead, moves
it only as far as the next outlet has reached. A publisher counts while it has an item
among the partition's ``recent`` last items (50) and is within ``idle_lag`` (6 h) of the
most advanced, so an outlet that stops publishing stops holding event time back, like an
idle partition; one clock up to 6 h ahead cannot move event time. With fewer publishers
than ``outlets`` it is the lowest of theirs. Items without a publisher count as one
anonymous publisher. It never moves back. Event time lags the plain maximum by about the
gap between two outlets' reports, which the windows' grace covers.
"""

from __future__ import annotations

from collections import deque

__all__ = ["EventTime"]

_NEVER = float("-inf")


class EventTime:
    def __init__(self, outlets: int = 2, recent: int = 50, idle_lag: float = 6 * 3600.0) -> None:
        if outlets < 1 or recent < 1 or idle_lag <= 0:
            raise ValueError("need outlets >= 1, recent >= 1 and idle_lag > 0")
        self.outlets = outlets
        self.recent = recent
        self.idle_lag = idle_lag
        self._latest: dict[str, float] = {}
        """Highest published_at of each publisher that counts."""
        self._seen: deque[str] = deque()
        self._count: dict[str, int] = {}
        self._top: list[tuple[float, str]] = []
        """The highest ``outlets`` marks of those publishers, highest first."""
        self.mark = _NEVER

    def observe(self, publisher: str | None, published: float) -> float:
        """Note one item; return the partition's event time after it."""
        name = publisher or ""
        self._seen.append(name)
        self._count[name] = self._count.get(name, 0) + 1
        if published > self._latest.get(name, _NEVER):
            self._latest[name] = published
            self._rank(name, published)
        if len(self._seen) > self.recent:
            gone = self._seen.popleft()
            self._count[gone] -= 1
            if not self._count[gone]:
                del self._count[gone]
                self._drop(gone)
        top = self._top
        # An outlet far behind the leader has stopped, or is slow: it no longer counts.
        while len(top) > 1 and top[0][0] - top[min(self.outlets, len(top)) - 1][0] > self.idle_lag:
            self._drop(top[min(self.outlets, len(top)) - 1][1])
            top = self._top
        self.mark = max(self.mark, top[min(self.outlets, len(top)) - 1][0])
        return self.mark

    def _rank(self, name: str, published: float) -> None:
        top = self._top
        at = next((i for i, (_, who) in enumerate(top) if who == name), None)
        if at is not None:
            top[at] = (published, name)
        elif len(top) < self.outlets:
            top.append((published, name))
        elif published > top[-1][0]:
            top[-1] = (published, name)
        top.sort(reverse=True)

    def _drop(self, name: str) -> None:
        """A publisher stops counting until it publishes again, as an idle partition does:
        a feed that died must not hold event time back."""
        if self._latest.pop(name, None) is None:
            return
        if any(who == name for _, who in self._top):
            ranked = sorted(((at, who) for who, at in self._latest.items()), reverse=True)
            self._top = ranked[: self.outlets]
