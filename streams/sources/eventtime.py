"""One raw partition's event time, robust to an outlet whose clock is wrong.

Kafka Streams and Flink take a partition's event time to be the highest timestamp read
from it. One outlet whose ``published_at`` runs three hours ahead (a time-zone mistake,
too small for the ``max_event_ahead`` dead-letter rule) then drags event time three hours
ahead, and every honest report after it arrives late for its windows.

Here each publisher keeps its own highest ``published_at``, and the partition's event time
is the ``outlets``-th highest of those (2 by default): an order statistic over sources, as
a quantile of clocks outvotes one bad clock. One outlet, however far ahead, moves it only
as far as the next outlet has reached; ``outlets=1`` is the plain maximum. A publisher
counts while it has an item among the partition's ``recent`` last items (50) and has sent
one within the partition's last ``idle_lag`` (6 h) of progress, so an outlet that stops
publishing stops holding event time back, like an idle partition. Progress is the rise of
the partition's highest ``published_at``, each item's rise counted up to ``idle_lag / 2``:
one item far ahead cannot by itself make the other outlets look silent. Silence, not
distance from the most advanced, retires an outlet: an honest one that keeps publishing
keeps counting however far ahead a wrong clock runs (UTC+8 written as UTC, say), where
retiring outlets far behind would let that clock drag event time as the plain maximum does.
With fewer publishers than ``outlets`` it is the lowest of theirs. Items without a
publisher count as one anonymous publisher. It never moves back. Event time lags the plain
maximum by about the gap between two outlets' reports, which the windows' grace covers.
At most ``recent`` publishers are remembered; an item costs O(``outlets``), plus
O(``recent``) when a publisher among the ``outlets`` most advanced stops counting.
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
        self._heard: dict[str, float] = {}
        """Of each publisher that counts, ``_progress`` when its last item came."""
        self._highest = _NEVER
        self._progress = 0.0
        self._seen: deque[str] = deque()
        self._count: dict[str, int] = {}
        self._top: list[tuple[float, str]] = []
        """The highest ``outlets`` marks of those publishers, highest first."""
        self.mark = _NEVER

    def observe(self, publisher: str | None, published: float) -> float:
        """Note one item; return the partition's event time after it."""
        name = publisher or ""
        if published > self._highest:
            if self._highest > _NEVER:
                self._progress += min(published - self._highest, self.idle_lag / 2)
            self._highest = published
        self._heard[name] = self._progress
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
        # An outlet silent for idle_lag of progress has stopped: it no longer counts. Only
        # the one that sets event time matters: those above it cannot hold it back, and
        # those below are looked at once promoted.
        while len(top) > 1:
            _, last = top[min(self.outlets, len(top)) - 1]
            if self._progress - self._heard[last] <= self.idle_lag:
                break
            self._drop(last)
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
        self._heard.pop(name, None)
        if self._latest.pop(name, None) is None:
            return
        if any(who == name for _, who in self._top):
            ranked = sorted(((at, who) for who, at in self._latest.items()), reverse=True)
            self._top = ranked[: self.outlets]
