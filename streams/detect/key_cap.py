"""How many keys one signal may hold, so that no feed can grow detection state without bound.

A key is ``signal|region`` (or ``signal|publisher``), and a feed with a free-text region
would otherwise make one per spelling it sends. Each signals partition holds at most
``ceil(max_per_signal / partitions)`` keys of a signal; a hit for a key it does not hold
once that many are held counts under the signal's ``other`` key of that partition
instead. The cap is per partition so that the decision is the same whichever worker owns
the partition, and each ``other`` key is named so that the topic's partitioner puts it in
the partition whose overflow it holds (``signal|other``, or ``signal|other-N`` where that
lands elsewhere): it is then written, restored and alerted on like any other key.

A signal that lists its ``regions`` in the watchlist has at most that many keys anyway.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable

from streams.models import SignalHit

__all__ = ["OTHER_REGION", "KeyCap", "signal_of"]

OTHER_REGION = "other"


def signal_of(key: bytes) -> str:
    return key.split(b"|", 1)[0].decode(errors="replace")


class KeyCap:
    def __init__(
        self, max_per_signal: int, partitions: int, partition_of: Callable[[bytes], int]
    ) -> None:
        self.per_partition = -(-max_per_signal // partitions)
        self._partition_of = partition_of
        self._held: Counter[tuple[int, str]] = Counter()
        self._others: dict[tuple[str, int], str] = {}
        self.reached: set[tuple[str, int]] = set()
        """(signal, partition) pairs whose cap has been reached since this process began."""
        self.fresh: list[tuple[str, int]] = []
        """Those of ``reached`` not yet reported (``take_fresh``)."""

    def seed(self, keys: Iterable[tuple[bytes, int]]) -> None:
        """Count the keys held again, from (key, partition) pairs: after an assignment."""
        self._held = Counter((partition, signal_of(key)) for key, partition in keys)

    def admit(self, hit: SignalHit, partition: int) -> SignalHit | None:
        """For a hit whose key is not held: None if a new key may be made for it, else the
        hit re-keyed to its signal's ``other`` key of ``partition``."""
        if self._held[partition, hit.signal_id] < self.per_partition:
            return None
        if (hit.signal_id, partition) not in self.reached:
            self.reached.add((hit.signal_id, partition))
            self.fresh.append((hit.signal_id, partition))
        return hit.model_copy(
            update={"key": self.other(hit.signal_id, partition), "region": OTHER_REGION}
        )

    def take_fresh(self) -> list[tuple[str, int]]:
        fresh, self.fresh = self.fresh, []
        return fresh

    def added(self, key: bytes, partition: int) -> None:
        self._held[partition, signal_of(key)] += 1

    def removed(self, key: bytes, partition: int) -> None:
        held = (partition, signal_of(key))
        if self._held[held] > 0:
            self._held[held] -= 1

    def other(self, signal: str, partition: int) -> str:
        """The signal's ``other`` key of ``partition``: the first of ``signal|other``,
        ``signal|other-1``, ... that the partitioner puts there."""
        found = self._others.get((signal, partition))
        if found is None:
            names = itertools.chain(
                [f"{signal}|{OTHER_REGION}"],
                (f"{signal}|{OTHER_REGION}-{n}" for n in itertools.count(1)),
            )
            found = next(n for n in names if self._partition_of(n.encode()) == partition)
            self._others[signal, partition] = found
        return found
