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
from heapq import heapify, heappush, heapreplace
from typing import TypeAlias

__all__ = ["EventTime"]

_NEVER = float("-inf")


class _Publisher:
    """One publisher with an item among the partition's ``recent`` last items."""

    __slots__ = ("heard", "items", "latest", "name")

    def __init__(self, name: str, heard: float) -> None:
        self.name = name
        self.items = 0
        """How many of the ``recent`` last items are its."""
        self.heard = heard
        """``_progress`` when its last item came."""
        self.latest = _NEVER
        """Its highest published_at while it counts, ``_NEVER`` while it does not."""


_Mark: TypeAlias = tuple[float, str, _Publisher]
"""A counting publisher's latest and name, ordered by them; names differ, so the record
itself is never compared."""


class EventTime:
    def __init__(self, outlets: int = 2, recent: int = 50, idle_lag: float = 6 * 3600.0) -> None:
        if outlets < 1 or recent < 1 or idle_lag <= 0:
            raise ValueError("need outlets >= 1, recent >= 1 and idle_lag > 0")
        self.outlets = outlets
        self.recent = recent
        self.idle_lag = idle_lag
        self._half = idle_lag / 2
        self._highest = _NEVER
        self._progress = 0.0
        # A record per publisher, referred to from the window and the top marks, saves the
        # dict look-ups of one dict per field: this runs once per raw item.
        self._publishers: dict[str, _Publisher] = {}
        # Primed with ``recent`` blanks so each item pushes exactly one out.
        self._seen: deque[_Publisher | None] = deque([None] * recent)
        self._top: list[_Mark] = []
        """The highest ``outlets`` marks of the publishers that count, as a heap: the first
        is the lowest, the one that sets event time. Only that one is ever read, and a heap
        replaces it in one call where a sorted list would need a sort per item."""
        self.mark = _NEVER

    def observe(self, publisher: str | None, published: float) -> float:
        """Note one item; return the partition's event time after it."""
        name = publisher or ""
        highest = self._highest
        if published > highest:
            if highest > _NEVER:
                rise = published - highest
                half = self._half
                self._progress += half if half < rise else rise
            self._highest = published
        progress = self._progress
        own = self._publishers.get(name)
        if own is None:
            own = self._publishers[name] = _Publisher(name, progress)
        own.items += 1
        own.heard = progress
        old = own.latest
        top = self._top
        if published > old:
            own.latest = published
            entry = (published, name, own)
            if not top:
                top.append(entry)
            # A publisher left out has a mark no higher than the lowest kept, so only one
            # whose mark had reached it can be among those kept.
            elif old >= top[0][0] and (old, name, own) in top:
                top[top.index((old, name, own))] = entry
                heapify(top)
            elif len(top) < self.outlets:
                heappush(top, entry)
            elif published > top[0][0]:
                heapreplace(top, entry)
        seen = self._seen
        seen.append(own)
        gone = seen.popleft()
        if gone is not None:
            gone.items -= 1
            if not gone.items:
                # No item of its is among the recent ones: forget it.
                del self._publishers[gone.name]
                if gone.latest > _NEVER and (gone.latest, gone.name, gone) in top:
                    top = self._rerank()
        # An outlet silent for idle_lag of progress has stopped: it no longer counts. Only
        # the one that sets event time matters: those above it cannot hold it back, and
        # those below are looked at once promoted.
        while len(top) > 1:
            lowest = top[0][2]
            if progress - lowest.heard <= self.idle_lag:
                break
            # It stops counting until it publishes again, as an idle partition does: a
            # feed that died must not hold event time back.
            lowest.latest = _NEVER
            top = self._rerank()
        mark = self.mark
        at = top[0][0]
        if at > mark:
            self.mark = mark = at
        return mark

    def _rerank(self) -> list[_Mark]:
        ranked = sorted(
            (own.latest, who, own) for who, own in self._publishers.items() if own.latest > _NEVER
        )
        # Ascending, so already a heap; ties in time go by name as the heap orders them.
        self._top = ranked[-self.outlets :]
        return self._top
