"""Per-key state written to its store once per flush, however often it changes between.

Detection rewrites a key's whole entry at every batch that touches it, and batches are
small (``WATCHFLOOR_BATCH_WITHIN``): a burst of hits on one key would send its entry to
the changelog once per hit, kilobytes each. Kafka Streams puts a record cache in front of
its stores for the same reason: a key written many times between two commits reaches the
changelog once. ``WriteBehind`` is that cache: reads see the latest write, and ``flush``
hands the backing store (a Faust table, whose writes go to the changelog) each changed
key's last value, or its deletion, once.

Whoever flushes must do so before the input offsets those writes depend on are committed
(``streams.pipeline.agents.detect`` does it in front of each offset commit): a commit
then never covers a change that only lives here.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping

__all__ = ["WriteBehind"]

_GONE = None


class WriteBehind(MutableMapping[bytes, bytes]):
    def __init__(self, backing: MutableMapping[bytes, bytes]) -> None:
        self.backing = backing
        self._changed: dict[bytes, bytes | None] = {}
        """Key → its value since the last flush, ``None`` when it was deleted."""

    def __getitem__(self, key: bytes) -> bytes:
        if key in self._changed:
            value = self._changed[key]
            if value is _GONE:
                raise KeyError(key)
            return value
        return self.backing[key]

    def get(self, key: bytes, default: bytes | None = None) -> bytes | None:  # type: ignore[override]
        # The hot path, every key of every batch: Mapping.get would raise and catch.
        changed = self._changed
        if key in changed:
            value = changed[key]
            return default if value is _GONE else value
        return self.backing.get(key, default)

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._changed[key] = value

    def __delitem__(self, key: bytes) -> None:
        if key not in self:
            raise KeyError(key)
        self._changed[key] = _GONE

    def __contains__(self, key: object) -> bool:
        if key in self._changed:
            return self._changed[key] is not _GONE
        return key in self.backing

    def __iter__(self) -> Iterator[bytes]:
        changed = self._changed
        for key in list(self.backing):
            if key not in changed:
                yield key
        for key, value in list(changed.items()):
            if value is not _GONE:
                yield key

    def __len__(self) -> int:
        size = len(self.backing)
        for key, value in self._changed.items():
            size += (value is not _GONE) - (key in self.backing)
        return size

    @property
    def pending(self) -> int:
        """Keys changed since the last flush."""
        return len(self._changed)

    def flush(self) -> int:
        """Write each changed key's last value (or its deletion) to the backing store;
        returns how many keys were written."""
        changed, self._changed = self._changed, {}
        backing = self.backing
        for key, value in changed.items():
            if value is _GONE:
                backing.pop(key, None)
            else:
                backing[key] = value
        return len(changed)
