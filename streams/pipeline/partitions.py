"""Which signals-topic partition each detection key lives on, and which keys hold open windows.

A watermark advances per partition, so closing windows needs the keys of that partition
that still have open windows. Keys seen in a record carry their partition; keys restored
from the table's changelog get it from the producer's partitioner, which placed them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from aiokafka.partitioner import murmur2

__all__ = ["KeyPartitions"]


class KeyPartitions:
    def __init__(self, partitions: int) -> None:
        self._partitions = partitions
        self._partition: dict[bytes, int] = {}
        self._open: dict[int, set[bytes]] = defaultdict(set)
        self.needs_seed = True

    def mark_stale(self) -> None:
        """Partitions moved: re-read the table's keys before the next batch."""
        self.needs_seed = True

    def seed(self, keys: Iterable[bytes]) -> None:
        # Every restored key may hold open windows; the next advance tells which do.
        self._open.clear()
        for key in keys:
            self._open[self.partition_of(key)].add(key)
        self.needs_seed = False

    def add(self, key: bytes, partition: int) -> None:
        self._partition[key] = partition
        self._open[partition].add(key)

    def set_open(self, key: bytes, is_open: bool) -> None:
        keys = self._open[self.partition_of(key)]
        if is_open:
            keys.add(key)
        else:
            keys.discard(key)

    def discard(self, key: bytes) -> None:
        self.set_open(key, False)
        self._partition.pop(key, None)

    def open_in(self, partition: int) -> list[bytes]:
        return list(self._open.get(partition, ()))

    def partition_of(self, key: bytes) -> int:
        partition = self._partition.get(key)
        if partition is None:
            # The same arithmetic as the Java client's and aiokafka's default partitioner.
            partition = (murmur2(key) & 0x7FFFFFFF) % self._partitions
            self._partition[key] = partition
        return partition
