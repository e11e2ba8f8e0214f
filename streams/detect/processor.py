"""Apply a batch of signal records to per-key state: the detect agent's logic, Kafka-free.

The agent feeds it decoded records tagged with their partition and writes back what it
returns; the offline runner in tests feeds it a whole feed the same way. Both therefore
give the same alerts for the same records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime

from streams.detect.clock import SourceClock
from streams.detect.engine import Advanced, Detection, HitOutcome
from streams.detect.state import KeyState
from streams.models import SignalHit, WatermarkTick

__all__ = ["BatchResult", "DetectProcessor", "OpenKeys"]


class OpenKeys:
    """Per partition, the keys a watermark may change: open windows, or silence can alert."""

    def __init__(self, partition_of: Callable[[bytes], int]) -> None:
        self._partition_of = partition_of
        self._partition: dict[bytes, int] = {}
        self._open: dict[int, set[bytes]] = {}
        self.stale = True

    def seed(self, keys: Iterable[bytes]) -> None:
        # Every restored key may hold open windows; the next advance tells which do.
        self._open.clear()
        for key in keys:
            self.set_open(key, True)
        self.stale = False

    def place(self, key: bytes, partition: int) -> None:
        self._partition[key] = partition

    def set_open(self, key: bytes, is_open: bool) -> None:
        keys = self._open.setdefault(self.partition_of(key), set())
        if is_open:
            keys.add(key)
        else:
            keys.discard(key)

    def in_partition(self, partition: int) -> Iterator[bytes]:
        return iter(list(self._open.get(partition, ())))

    def partition_of(self, key: bytes) -> int:
        partition = self._partition.get(key)
        if partition is None:
            partition = self._partition[key] = self._partition_of(key)
        return partition


@dataclass
class BatchResult(Advanced):
    """What a batch did: its alerts and counts, each hit's outcome, the keys it changed."""

    outcomes: list[tuple[SignalHit, HitOutcome]] = field(default_factory=list)
    touched: dict[bytes, KeyState] = field(default_factory=dict)


class DetectProcessor:
    def __init__(
        self,
        detection: Detection,
        store: MutableMapping[bytes, bytes],
        open_keys: OpenKeys,
        watchlist_version: str,
        *,
        sources: int = 1,
        idle_after: float = 60.0,
    ) -> None:
        self.detection = detection
        self.store = store
        self.open_keys = open_keys
        self.version = watchlist_version
        self.sources = sources
        self.idle_after = idle_after
        self._decoded: dict[bytes, tuple[bytes, KeyState]] = {}
        self.clocks: dict[int, SourceClock] = {}
        """Per signals partition, its event time, merged over the raw partitions."""

    @property
    def watermarks(self) -> dict[int, float]:
        """Per signals partition, the event time its windows have been advanced to."""
        return {p: c.mark for p, c in self.clocks.items() if c.mark > float("-inf")}

    def process(
        self, records: Iterable[tuple[int, SignalHit | WatermarkTick]], now: datetime
    ) -> BatchResult:
        """Count the hits, advance watermarks, close windows; state is written by ``commit``."""
        if self.open_keys.stale:
            self.open_keys.seed(bytes(k) for k in self.store)
        result = BatchResult()
        touched = result.touched
        advanced: set[int] = set()
        wall = now.timestamp()
        for partition, record in records:
            clock = self.clocks.get(partition)
            if clock is None:
                clock = self.clocks[partition] = SourceClock(self.sources, self.idle_after, wall)
            mark = clock.mark
            if isinstance(record, WatermarkTick):
                clock.update(record.source, record.watermark.timestamp(), wall)
                new_mark = clock.current(wall)
            else:
                # The ingest watermark rides on each hit, so lateness is judged per item as
                # if events were processed one at a time, whatever the batching. The hit's
                # own time is not event time: it may come from an outlet's wrong clock.
                clock.update(record.source, record.watermark.timestamp(), wall)
                new_mark = clock.current(wall)
                key = record.key.encode()
                ks = touched.get(key) or self._load(key) or self.detection.new_state(record)
                # The key moves to the hit's event time, then counts the hit: the sequence
                # the offline runner gives it, one item at a time.
                outcome, judged = self.detection.apply(ks, record, new_mark, self.version, now)
                result.outcomes.append((record, outcome))
                result.take(judged)
                touched[key] = ks
                self.open_keys.place(key, partition)
            if new_mark > mark:
                advanced.add(partition)
        for partition in advanced:
            mark = self.clocks[partition].mark
            for key in self.open_keys.in_partition(partition):
                if key in touched or self._idle(key, mark):
                    continue
                if (restored := self._load(key)) is not None:
                    touched[key] = restored
        for key, ks in touched.items():
            clock = self.clocks.get(self.open_keys.partition_of(key))
            mark = clock.mark if clock is not None else float("-inf")
            result.take(self.detection.advance(ks, mark, self.version, now))
        return result

    def commit(self, result: BatchResult) -> None:
        """Write back the batch's state, after its alerts are safely delivered."""
        for key, ks in result.touched.items():
            if self.detection.expired(ks):
                self.store.pop(key, None)
                self._decoded.pop(key, None)
                self.open_keys.set_open(key, False)
            else:
                self.store[key] = data = ks.dumps()
                self._decoded[key] = (data, ks)
                self.open_keys.set_open(key, self.detection.needs_advance(ks))

    def _idle(self, key: bytes, mark: float) -> bool:
        """Whether ``mark`` changes nothing for ``key`` but its watermark (known only of a
        key whose decoded state is at hand; the watermark is not worth a write)."""
        cached = self._decoded.get(key)
        if cached is None or cached[1].due is None or mark >= cached[1].due:
            return False
        return self.store.get(key) is cached[0]

    def _load(self, key: bytes) -> KeyState | None:
        data = self.store.get(key)
        if data is None:
            return None
        # The state decoded when it was last written, if the table still holds those very
        # bytes (recovery or another writer would put others). Taken out while a batch may
        # change it: a batch that fails leaves nothing half-applied behind.
        cached = self._decoded.pop(key, None)
        if cached is not None and cached[0] is data:
            return cached[1]
        return KeyState.loads(data)
