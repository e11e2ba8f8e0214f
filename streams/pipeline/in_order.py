"""Detection's input in log order with none skipped: a record Faust drops is read again at once.

faust-streaming 0.15 can lose a fetched record on its way from the consumer thread to an
agent's stream (faust-streaming #596: a seek, or the stream queues cleared, while a fetched
batch is being handed over at the end of a recovery); the partition's later records still
arrive. ``GapWatch`` (``streams.pipeline.offsets``) notices the commit that stays stuck
behind it and re-reads the partition after ``WATCHFLOOR_COMMIT_STALL_TIMEOUT``: nothing is
lost, but for detection that is not enough. The lost hit or watermark tick, read half a
minute later, meets windows that later ticks have already judged, and the alerts differ
from a run in which it came in its place: a ``crash-restart`` fault run lost offset 860,
the first record its restarted worker should have read, and ended with 3 alerts of the
clean run missing and 6 others in their place.

So detection checks each signals partition's offsets as they arrive (``InOrder``): the
next offset expected is taken; an earlier one was handled already in this assignment and
is passed over; a later one means records before it went missing. The partition is then
sought back to the first missing offset, and the records after it are let go
unacknowledged, to come again behind it. Offsets that Faust's fetcher saw missing from the
log (transaction markers, compacted records), and offsets below the log's start
(retention), are not waited for.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import faust
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from intervaltree import IntervalTree

from streams.consumers import group_less_consumer, stop_consumer
from streams.settings import Settings

__all__ = ["InOrder", "OrderedInput", "Verdict", "covered", "log_start"]

log = logging.getLogger(__name__)

LOG_START_TIMEOUT = 10.0
"""Seconds the read of a log's first offset may take; without it the partition is sought
back as if the log held the offset expected."""


class Verdict(Enum):
    TAKE = "take"
    """The offset expected next (or the next one after a hole in the log): process it."""
    SEEN = "seen"
    """Below the offset expected: processed already in this assignment."""
    AHEAD = "ahead"
    """Beyond the offset expected with records missing in between."""


def covered(holes: IntervalTree, start: int, end: int) -> bool:
    """Whether every offset in ``[start, end)`` lies in one of ``holes`` (half-open)."""
    at = start
    for interval in sorted(holes.overlap(start, end), key=lambda iv: iv.begin):
        if interval.begin > at:
            return False
        at = max(at, interval.end)
    return at >= end


@dataclass
class InOrder:
    """Per partition, the next offset to process, and when it was last sought back to."""

    retry_after: float = 1.0
    """Seconds a seek back to one offset is given before another is made: records fetched
    before the seek may still arrive meanwhile, ahead of the offset sought."""
    _next: dict[Hashable, int] = field(default_factory=dict)
    _sought: dict[Hashable, tuple[int, float]] = field(default_factory=dict)

    def knows(self, tp: Hashable) -> bool:
        return tp in self._next

    def start(self, tp: Hashable, offset: int) -> None:
        """Expect ``offset`` next on ``tp``: its committed offset when it is assigned."""
        self._next[tp] = offset
        self._sought.pop(tp, None)

    def forget(self) -> None:
        """Stop checking every partition: they move, each checked again once placed."""
        self._next.clear()
        self._sought.clear()

    def expected(self, tp: Hashable) -> int:
        return self._next[tp]

    def check(self, tp: Hashable, offset: int, holes: IntervalTree | None = None) -> Verdict:
        """The verdict on the record at ``offset`` of ``tp``; a taken one moves ``tp`` on.

        ``holes``: offsets the fetcher saw missing from ``tp``'s log.
        """
        expected = self._next[tp]
        if offset < expected:
            return Verdict.SEEN
        if offset > expected and not (holes and covered(holes, expected, offset)):
            return Verdict.AHEAD
        self._next[tp] = offset + 1
        return Verdict.TAKE

    def seek_due(self, tp: Hashable, now: float) -> int | None:
        """After an ``AHEAD``: the offset to seek ``tp`` back to, or None while a seek to it
        is under way."""
        expected = self._next[tp]
        last = self._sought.get(tp)
        if last is not None and last[0] == expected and now - last[1] < self.retry_after:
            return None
        self._sought[tp] = (expected, now)
        return expected


class OrderedInput:
    """``InOrder`` applied to an agent's batches of events, on the worker's Faust consumer.

    A partition is checked from the moment Faust places it at its committed offset
    (``perform_seek``, at the end of each recovery) until it is revoked. Records that come
    before (from the consumer's own start at that offset) pass unchecked, as Faust hands
    them over: the placement reads them again.
    """

    def __init__(
        self,
        app: faust.App,
        rereads: Any,
        log_start: Callable[[Any], Awaitable[int]],
        clock: Callable[[], float] = time.monotonic,
    ):
        self.app = app
        self.order = InOrder()
        self.log_start = log_start
        """The first offset a partition's log holds, asked of the brokers (not through
        Faust's consumer thread: a call into it from an agent's batch can wait for good)
        when a record arrives ahead of the one expected."""
        self.rereads = rereads
        """Counter incremented at each seek back."""
        self._clock = clock

    def install(self, consumer: Any) -> None:
        """Place each assigned partition where Faust's ``perform_seek`` puts it."""
        if getattr(consumer, "_watchfloor_in_order", False):
            return
        perform_seek = consumer.perform_seek

        async def seek_and_place() -> None:
            await perform_seek()
            for tp in consumer.assignment():
                # None: nothing committed, or 0, which Faust keeps as None. A log that no
                # longer starts at 0 is found out at the first record (``_seek_back``).
                self.order.start(tp, int(consumer._committed_offset.get(tp) or 0))

        consumer.perform_seek = seek_and_place
        consumer._watchfloor_in_order = True

    def revoked(self) -> None:
        """Partitions are moving: each is checked again once Faust places it."""
        self.order.forget()

    async def take(self, events: Iterable[faust.EventT]) -> list[faust.EventT]:
        """The events to process, in log order; the ones ahead of a missing record are let go
        unacknowledged and their partition sought back to it."""
        consumer: Any = self.app.consumer
        out = []
        behind: set[Any] = set()
        for event in events:
            message = event.message
            tp = message.tp
            if not self.order.knows(tp):
                out.append(event)  # not placed yet, or no longer this worker's
                continue
            verdict = self.order.check(tp, message.offset, consumer._gap.get(tp))
            if verdict is Verdict.TAKE:
                out.append(event)
            elif verdict is Verdict.AHEAD:
                # Let go without telling the consumer: its offset stays uncommitted and the
                # record comes again after the seek.
                message.acked = True
                consumer._unacked_messages.discard(message)
                behind.add(tp)
        for tp in behind:
            await self._seek_back(consumer, tp)
        return out

    async def _log_start(self, tp: Any) -> int | None:
        try:
            return await asyncio.wait_for(self.log_start(tp), LOG_START_TIMEOUT)
        except (KafkaError, OSError, TimeoutError) as exc:
            log.warning(
                "could not read where the log starts",
                extra={"topic": tp.topic, "partition": tp.partition, "error": str(exc)},
            )
            return None

    async def _seek_back(self, consumer: Any, tp: Any) -> None:
        offset = self.order.seek_due(tp, self._clock())
        if offset is None or tp not in consumer.assignment():
            return
        earliest = await self._log_start(tp)
        if earliest is not None and offset < earliest:
            log.warning(
                "the log starts after the offset expected; going on from its start",
                extra={"topic": tp.topic, "partition": tp.partition, "offset": offset},
            )
            self.order.start(tp, earliest)
            offset = earliest
        else:
            log.warning(
                "a record went missing on its way to the agent; reading the partition "
                "again from it",
                extra={"topic": tp.topic, "partition": tp.partition, "offset": offset},
            )
        self.rereads.inc()
        await consumer.seek(tp, offset)


async def log_start(settings: Settings, tp: Any) -> int:
    """The first offset ``tp``'s log holds, read by a consumer of its own."""
    partition = TopicPartition(tp.topic, tp.partition)
    consumer = group_less_consumer(settings)
    await consumer.start()
    try:
        return int((await consumer.beginning_offsets([partition]))[partition])
    finally:
        await stop_consumer(consumer)
