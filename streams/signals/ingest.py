"""Raw items to signal hits and watermark ticks: the ingest agent's logic, Kafka-free.

The worker's ingest agent hands it each batch of raw records and sends what it returns;
the offline runner (``watchfloor backtest``, the tests' oracle) hands it one record at a
time. Both therefore decode, keep event time, match and tick the same way.

Each raw partition is its own source of event time (``streams.sources.eventtime``): one
partition read ahead of the others cannot make theirs late, and within a partition one
outlet's clock running ahead cannot either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from streams.models import RawItem, SignalHit, WatermarkTick
from streams.signals.hits import item_hits
from streams.signals.matcher import Matcher
from streams.sources.decode import Rejection, decode_item
from streams.sources.eventtime import EventTime
from streams.sources.glance import glance

__all__ = ["IngestProcessor", "Ingested"]


@dataclass(slots=True)
class Ingested:
    """What a batch of raw records gave."""

    hits: list[SignalHit] = field(default_factory=list)
    """In the order of their items; each carries its partition's event time then."""
    rejected: list[tuple[int, Rejection]] = field(default_factory=list)
    """Position in the batch of each record refused, and why: it goes to dead letters."""
    ticks: list[WatermarkTick] = field(default_factory=list)
    """One per source that took an item, with its event time after the batch."""
    items: int = 0
    """Records that were valid items."""


class IngestProcessor:
    def __init__(
        self, matcher: Matcher, *, outlets: int, max_ahead: float, fingerprints: bool = True
    ) -> None:
        self.matcher = matcher
        self.outlets = outlets
        self.max_ahead = max_ahead
        self.fingerprints = fingerprints
        """Whether hits carry a near-duplicate fingerprint (detection reads it only when
        near-duplicate detection is on); one costs about 150 µs."""
        self.clocks: dict[int, EventTime] = {}
        """Per source (raw partition), its event time."""
        self.latest = float("-inf")
        """The newest ``published_at`` of any item taken (Unix seconds)."""

    def process(self, records: Iterable[tuple[int, bytes | None, float]]) -> Ingested:
        """``(source, value, received at)`` records, in their order within each source."""
        out = Ingested()
        rejected = out.rejected
        moved: set[int] = set()
        may_match = self.matcher.may_match
        max_ahead = self.max_ahead
        latest = self.latest
        clocks = self.clocks
        count = 0
        for count, (source, value, received_at) in enumerate(records, 1):
            # Most items match nothing: a glance at them is all they need.
            seen = glance(value, received_at=received_at, max_ahead=max_ahead)
            item: RawItem | None = None
            if seen is not None and not may_match(seen.text):
                publisher, published, _ = seen
            else:
                decoded = decode_item(value, received_at=received_at, max_ahead=max_ahead)
                if isinstance(decoded, Rejection):
                    rejected.append((count - 1, decoded))
                    continue
                item = decoded
                publisher, published = item.publisher, item.published_at.timestamp()
            if published > latest:
                latest = published
            mark = (clocks.get(source) or self._new_clock(source)).observe(publisher, published)
            moved.add(source)
            if item is not None:
                out.hits += item_hits(
                    self.matcher, item, received_at, mark, source, fingerprints=self.fingerprints
                )
        self.latest = latest
        out.items = count - len(rejected)
        out.ticks = [
            WatermarkTick(watermark=datetime.fromtimestamp(self.mark(s), UTC), source=s)
            for s in sorted(moved)
        ]
        return out

    def _new_clock(self, source: int) -> EventTime:
        clock = self.clocks[source] = EventTime(self.outlets)
        return clock

    def mark(self, source: int = 0) -> float:
        """The event time of ``source``: -inf before its first item."""
        clock = self.clocks.get(source)
        return clock.mark if clock is not None else float("-inf")

    def forget(self, source: int) -> None:
        """Drop ``source``'s event time: its partition is read elsewhere now."""
        self.clocks.pop(source, None)
