"""Apply a batch of signal records to per-key state: the detect agent's logic, Kafka-free.

The agent feeds it decoded records tagged with their partition and writes back what it
returns; the offline runner in tests feeds it a whole feed the same way. Both therefore
give the same alerts for the same records.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from heapq import heapify, heappop, heappush

from streams.detect.clock import SourceClock
from streams.detect.engine import Advanced, Detection, HitOutcome
from streams.detect.key_cap import KeyCap
from streams.detect.state import KeyState
from streams.models import SignalHit, WatermarkTick

__all__ = ["BatchResult", "DetectProcessor", "OpenKeys"]

DECODED_KEYS = 4096
"""Decoded key states kept beside their bytes; beyond them a key is decoded when touched."""


class OpenKeys:
    """Per partition, the keys a watermark may change: open windows, silence that can
    alert, or an idle key's expiry."""

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

    def is_open(self, key: bytes) -> bool:
        return key in self._open.get(self.partition_of(key), ())

    def partition_of(self, key: bytes) -> int:
        partition = self._partition.get(key)
        if partition is None:
            partition = self._partition[key] = self._partition_of(key)
        return partition


@dataclass
class BatchResult(Advanced):
    """What a batch did: its alerts and counts, each hit's outcome, the keys it changed."""

    outcomes: list[tuple[SignalHit, HitOutcome]] = field(default_factory=list)
    """Each hit as counted: under the signal's ``other`` key where the key cap folded it."""
    touched: dict[bytes, KeyState] = field(default_factory=dict)
    folded: Counter[str] = field(default_factory=Counter)
    """Per signal, hits counted under its ``other`` key (``KeyCap``)."""
    capped: list[tuple[str, int]] = field(default_factory=list)
    """(signal, partition) pairs whose key cap this batch reached first in this process."""
    trimmed: set[bytes] = field(default_factory=set)
    """Keys whose evidence ``commit`` cut for their entries to fit the bound."""


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
        max_bytes: int = 256 * 1024,
        key_cap: KeyCap | None = None,
    ) -> None:
        self.detection = detection
        self.store = store
        self.open_keys = open_keys
        self.version = watchlist_version
        self.sources = sources
        self.idle_after = idle_after
        self.max_bytes = max_bytes
        """Largest entry written (``KeyState.bounded``)."""
        self.key_cap = key_cap or KeyCap(10**9, 1, lambda _key: 0)
        self._decoded: OrderedDict[bytes, tuple[bytes, KeyState]] = OrderedDict()
        """The latest written keys' states as decoded, with the bytes written, at most
        ``DECODED_KEYS`` of them: a key touched again soon is not decoded again."""
        self._due: dict[bytes, tuple[bytes, float | None]] = {}
        """Per key written, its bytes and the event time a watermark alone must next
        advance it at (``KeyState.wake``; ``None``: not known, every advance looks)."""
        self._schedule: dict[int, list[tuple[float, bytes]]] = {}
        """Per partition, a heap of open keys by that time; an entry a later write
        replaced is skipped when it comes up."""
        self._unscheduled: dict[int, set[bytes]] = {}
        """Per partition, open keys with no such time: every advance loads them."""
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
            self._seed()
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
                ks = touched.get(key) or self._load(key)
                folded = None if ks is not None else self.key_cap.admit(record, partition)
                if folded is not None:
                    record, key = folded, folded.key.encode()
                    result.folded[record.signal_id] += 1
                    ks = touched.get(key) or self._load(key)
                if ks is None:
                    ks = self.detection.new_state(record)
                    self.key_cap.added(key, partition)
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
            for key in self._due_by(partition, self.clocks[partition].mark):
                if key not in touched and (restored := self._load(key)) is not None:
                    touched[key] = restored
        for key, ks in touched.items():
            clock = self.clocks.get(self.open_keys.partition_of(key))
            mark = clock.mark if clock is not None else float("-inf")
            result.take(self.detection.advance(ks, mark, self.version, now))
        result.capped = self.key_cap.take_fresh()
        return result

    def commit(self, result: BatchResult) -> None:
        """Write back the batch's state, after its alerts are safely delivered."""
        for key, ks in result.touched.items():
            partition = self.open_keys.partition_of(key)
            unscheduled = self._unscheduled.setdefault(partition, set())
            if self.detection.expired(ks):
                self.drop(key)
                continue
            data, cut = ks.bounded(self.max_bytes)
            if cut:
                result.trimmed.add(key)
            self.store[key] = data
            decoded = self._decoded
            decoded[key] = (data, ks)
            decoded.move_to_end(key)
            if len(decoded) > DECODED_KEYS:
                decoded.popitem(last=False)
            wake = ks.wake
            is_open = wake is None or wake < math.inf
            self.open_keys.set_open(key, is_open)
            self._due[key] = (data, wake)
            if wake is None:
                unscheduled.add(key)
                continue
            unscheduled.discard(key)
            if is_open:
                heap = self._schedule.setdefault(partition, [])
                heappush(heap, (wake, key))
                if len(heap) > 2 * len(self._due) + 64:
                    self._reschedule(partition)

    def drop(self, key: bytes) -> None:
        """Delete a key's state (held, or made by the batch being committed): it expired,
        or its signal is no longer watched."""
        partition = self.open_keys.partition_of(key)
        self.store.pop(key, None)
        self.key_cap.removed(key, partition)
        self._decoded.pop(key, None)
        self._due.pop(key, None)
        self.open_keys.set_open(key, False)
        self._unscheduled.get(partition, set()).discard(key)

    def _seed(self) -> None:
        """After a (re)assignment: every key in the store may hold open windows."""
        keys = [bytes(k) for k in self.store]
        self.open_keys.seed(keys)
        self._schedule.clear()
        self._unscheduled.clear()
        placed = [(key, self.open_keys.partition_of(key)) for key in keys]
        self.key_cap.seed(placed)
        for key, partition in placed:
            self._unscheduled.setdefault(partition, set()).add(key)

    def _due_by(self, partition: int, mark: float) -> list[bytes]:
        """The open keys of ``partition`` that a watermark at ``mark`` may change: those
        whose time has come, and those without one. Any other changes only its watermark,
        not worth a write."""
        keys = list(self._unscheduled.get(partition, ()))
        heap = self._schedule.get(partition)
        while heap and heap[0][0] <= mark:
            due, key = heappop(heap)
            entry = self._due.get(key)
            if (
                entry is not None
                and entry[1] == due
                and self.store.get(key) is entry[0]
                and self.open_keys.is_open(key)
            ):
                keys.append(key)
        return keys

    def _reschedule(self, partition: int) -> None:
        """Rebuild ``partition``'s heap from the current entries, dropping replaced ones."""
        heap = [
            (due, key)
            for key, (_, due) in self._due.items()
            if due is not None
            and self.open_keys.partition_of(key) == partition
            and self.open_keys.is_open(key)
        ]
        heapify(heap)
        self._schedule[partition] = heap

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
