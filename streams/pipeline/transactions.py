"""Faust compatibility for ``exactly_once`` with several workers in one group.

faust-streaming 0.15 keeps one transactional producer per input partition, but two of
its parts break as soon as partitions move between workers:

- With transactions its consumer reads the changelog ``read_committed`` and takes a
  changelog partition's end from the last stable offset cached from the last *fetch* of
  it (``AIOKafkaConsumerThread._highwaters``). After a rebalance nothing has been fetched
  in the new assignment yet, so the end reads as -1: a partition taken over is not
  restored at all (its state lost), and one kept whose earlier recovery read records
  fails the consistency check (``ConsistencyError``, "persisted offset ... higher than
  ... highwater (N > -1)"). ``exact_changelog_ends`` asks the broker instead: a
  ListOffsets request at ``read_committed`` answers the last stable offset.
- Work in flight when partitions move has no transaction to go to: the producer of a
  partition given away is stopped on assignment, so a batch read before the rebalance
  and sent after it fails with "No transaction producer found". ``HandOver`` (used by
  the detect agent) commits every transaction while the partitions are still this
  worker's, holds new output until the new assignment's producers are started, and
  drops input of partitions the worker no longer owns (their next owner reads it again
  from the committed offset).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

__all__ = ["HandOver", "exact_changelog_ends"]

log = logging.getLogger(__name__)


def exact_changelog_ends() -> None:
    """Make Faust's recovery read each changelog partition's end from the broker."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    if getattr(AIOKafkaConsumerThread, "_watchfloor_exact_ends", False):
        return

    async def _highwaters(self: Any, partitions: list[Any]) -> Mapping[Any, int]:
        # read_committed: the last stable offset; read_uncommitted: the high watermark,
        # which is what Faust asked for there already.
        return dict(await self._ensure_consumer().end_offsets(partitions))

    AIOKafkaConsumerThread._highwaters = _highwaters  # type: ignore[method-assign]
    AIOKafkaConsumerThread._watchfloor_exact_ends = True  # type: ignore[attr-defined]


class HandOver:
    """A clean hand-over of transactional partitions at each rebalance.

    ``output`` is the lock every batch holds while it writes alerts and state, and every
    transaction commit holds. On revocation (before Faust forgets what was acknowledged)
    new output stops, the batch in flight finishes, ``flush`` writes what is pending and
    every transaction is committed with its offsets: what a successor or this worker
    reads again afterwards starts exactly where the committed state ends. Output resumes
    once the new assignment's transactional producers run.
    """

    def __init__(self, app: Any, output: asyncio.Lock, flush: Callable[[], Awaitable[None]]):
        self.app = app
        self.output = output
        self.flush = flush
        self.settled = asyncio.Event()
        self.settled.set()
        self.owned: set[int] | None = None
        """Input partitions whose transactions this worker runs (None: not known yet)."""
        self.handed_over = False
        """Between the hand-over commit and the next assignment: nothing to commit."""

    def install(self, consumer: Any, producer: Any) -> None:
        if getattr(consumer, "_watchfloor_hand_over", False):
            return
        revoked = consumer.on_partitions_revoked

        async def on_partitions_revoked(tps: Any) -> None:
            await self.revoke(consumer)
            await revoked(tps)

        consumer.on_partitions_revoked = on_partitions_revoked
        consumer._watchfloor_hand_over = True

        commit = producer.commit_transactions

        async def commit_transactions(
            tid_to_offsets: Mapping[str, Any], *args: Any, **kwargs: Any
        ) -> None:
            async with self.output:
                live = producer._transaction_producers
                # Between a revocation and the new assignment nothing is committed: a
                # partition given away may already be its new owner's, who fences ours.
                mine = {
                    tid: offsets
                    for tid, offsets in tid_to_offsets.items()
                    if not self.handed_over and tid in live
                }
                if len(mine) != len(tid_to_offsets):
                    log.debug(
                        "transaction commits skipped",
                        extra={"tids": sorted(set(tid_to_offsets) - set(mine))},
                    )
                if mine:
                    await commit(mine, *args, **kwargs)

        producer.commit_transactions = commit_transactions
        producer._watchfloor_locked = True

    async def revoke(self, consumer: Any) -> None:
        if self.handed_over:
            return  # a second revocation before an assignment: already handed over
        self.settled.clear()
        async with self.output:
            await self.flush()
        try:
            await consumer.maybe_wait_for_commit_to_finish()
            await consumer.force_commit()
        except Exception:
            log.exception("commit on revocation failed; the successor reads it again")
        self.handed_over = True
        log.info("transactions committed for the hand-over")

    def assigned(self, partitions: set[int], tid: Callable[[int], str | None]) -> None:
        live = self.app.producer._transaction_producers
        self.owned = {p for p in partitions if tid(p) in live}
        if self.owned != partitions:
            log.error(
                "no transactional producer for some assigned partitions",
                extra={"partitions": sorted(partitions - self.owned)},
            )
        self.handed_over = False
        self.settled.set()

    def forget_others(self, store: Any, partition_of: Callable[[bytes], int]) -> None:
        """Drop from a memory-store table, without changelog writes, the entries of
        partitions given away: their next owner's now, and a write of ours that its
        fencing aborted must not linger here should the partition come back."""
        others = [k for k in list(store.data) if not self.owns(partition_of(k))]
        for key in others:
            store.data.pop(key, None)
            store._key_partition.pop(key, None)
        if others:
            log.info("entries of partitions given away dropped", extra={"keys": len(others)})

    def owns(self, partition: int) -> bool:
        return self.owned is None or partition in self.owned

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Hold ``output`` for a batch, only while no rebalance is under way."""
        while True:
            await self.settled.wait()
            await self.output.acquire()
            if self.settled.is_set():
                break
            self.output.release()
        try:
            yield
        finally:
            self.output.release()
