"""Offset commits that never pass an unprocessed record, and never stop for good.

Faust commits a partition up to the end of the first run of consecutive acknowledged
offsets. Two faults in faust-streaming 0.15 break at-least-once there, and the fault runs
hit one after a ``kill -9``:

- When exactly one offset at the head is missing it commits past it anyway, taking it
  for a hole in the log (faust-streaming #606): a record still in flight, or dropped,
  is then never read again. ``next_commit`` replaces that rule: real holes (compaction,
  transaction markers) are the ones Faust's fetcher recorded as gaps; any other missing
  offset holds the commit.
- A race in its recovery (faust-streaming #596) can drop a fetched record from its
  queues without seeking back, so that offset is never acknowledged: the worker goes on
  with later records, but commits stop for good and the record waits for a restart.
  ``GapWatch`` spots a head gap that does not move and the worker seeks the partition back
  to its committed offset: the missing record is read again, and so are some processed
  ones, which at least once is harmless (hits count once per item id, dead letters are
  accounted per source offset).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import faust
from intervaltree import IntervalTree

__all__ = ["GapWatch", "add_commit_guards", "next_commit"]

log = logging.getLogger(__name__)


@dataclass
class GapWatch:
    """Per partition, how long its commits have waited on the same missing offset.

    A gap that outlasts ``after`` is first re-read; if it is still there ``after`` later,
    the re-read found no record at that offset, so it is a hole in the log (a transaction
    marker, or a compacted record, right after a seek, which Faust's fetcher cannot tell
    from a missing record) and is skipped.
    """

    after: float
    """Seconds a gap must persist unchanged before the partition is re-read."""
    _since: dict[Any, tuple[int, int, float, bool]] = field(default_factory=dict)

    def stuck(
        self, heads: Iterable[tuple[Any, int | None, int | None]], now: float
    ) -> list[tuple[Any, str]]:
        """``heads``: (partition, committed offset, lowest acknowledged offset above it).

        Returns (partition, "reread" or "skip") for the gaps that have not moved for
        ``after`` seconds.
        """
        out = []
        seen = set()
        for tp, committed, lowest in heads:
            if committed is None or lowest is None or lowest <= committed:
                continue  # nothing acknowledged beyond a hole
            seen.add(tp)
            first = self._since.get(tp)
            if first is None or first[:2] != (committed, lowest):
                self._since[tp] = (committed, lowest, now, False)
            elif now - first[2] >= self.after:
                out.append((tp, "skip" if first[3] else "reread"))
                self._since[tp] = (committed, lowest, now, True)
        for tp in set(self._since) - seen:
            del self._since[tp]
        return out


def next_commit(
    acked: list[int], acked_index: set[int], gaps: IntervalTree, committed: int | None
) -> int | None:
    """The offset to commit for a partition, or None; consumes what it commits.

    ``acked``/``acked_index``: offsets processed and not yet committed (list and set);
    ``gaps``: offsets the fetcher saw missing from the log (half-open intervals);
    ``committed``: the committed offset, the next one to read (None: nothing yet).
    """
    if not acked:
        return None
    top = max(acked)
    holes = sorted(gaps.overlap(0, top + 1), key=lambda iv: iv.begin)
    if holes:
        filled = [o for iv in holes for o in range(iv.begin, iv.end) if o not in acked_index]
        acked.extend(filled)
        acked_index.update(filled)
        gaps.chop(0, max(top + 1, holes[-1].end))
    acked.sort()
    if committed is not None and acked[0] > committed:
        return None  # the record at ``committed`` is not processed yet: hold
    run = 1
    while run < len(acked) and acked[run] == acked[run - 1] + 1:
        run += 1
    done, acked[:run] = acked[:run], []
    acked_index.difference_update(done)
    return done[-1] + 1


def add_commit_guards(app: faust.App, after: float, rereads: Any) -> None:
    """Install ``next_commit`` on the worker's consumer and a ``GapWatch`` timer."""
    watch = GapWatch(after)

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def _strict_commits(app: faust.App, assigned: Any, **_: Any) -> None:
        consumer: Any = app.consumer
        if getattr(consumer, "_watchfloor_strict", False):
            return

        def new_offset(tp: Any) -> int | None:
            return next_commit(
                consumer._acked[tp],
                consumer._acked_index[tp],
                consumer._gap[tp],
                consumer._committed_offset[tp],
            )

        consumer._new_offset = new_offset
        consumer._watchfloor_strict = True
        log.debug("offset commits hold at the first unprocessed record")

    @app.timer(interval=max(1.0, after / 3))
    async def reread_stuck_partitions() -> None:
        consumer: Any = app.consumer
        heads = []
        for tp in consumer.assignment():
            acked = consumer._acked.get(tp)
            heads.append((tp, consumer._committed_offset.get(tp), min(acked) if acked else None))
        for tp, action in watch.stuck(heads, app.loop.time()):
            committed = consumer._committed_offset[tp]
            where = {"topic": tp.topic, "partition": tp.partition, "offset": committed}
            if action == "reread":
                log.warning("offset commits stuck behind a missing record; re-reading", extra=where)
                rereads.inc()
                await consumer.seek(tp, committed)
            else:
                lowest = min(consumer._acked[tp])
                log.warning("no record at the missing offsets; skipping them", extra=where)
                consumer._gap[tp].addi(committed, lowest)
