"""The ingest agent: raw items in batches, read with a plain aiokafka consumer.

Raw items are nearly all of the traffic and need no state but event time, so they skip
Faust's per-event path (a hand-off from its consumer thread, an event object, sensors and
an acknowledgement per record), which costs more than decoding and matching an item.
This service, started with the Faust app, reads them with ``getmany`` in a consumer group
of its own (``Settings.ingest_group``), hands each batch to the ``IngestProcessor`` and sends
what it returns with an idempotent producer of its own.

At least once, whatever ``processing_guarantee`` is: a batch's hits, ticks and dead
letters are acknowledged by the brokers before its offsets are committed, and a rebalance
waits for the batch in hand. A crash repeats a batch's output, which detection counts once
per item id and dead-letter accounting once per source offset. Ingest never needs
transactions: its output is idempotent downstream, and the alerts and detection state
that Faust's transactions cover are written by the detect agent.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, ConsumerStoppedError, IllegalStateError
from mode import Service

from streams.codec import encode
from streams.kafka_security import client_security
from streams.models import RESENT_HEADER, DeadLetter, WatermarkTick
from streams.pipeline.metrics import Metrics
from streams.settings import Settings
from streams.signals.ingest import IngestProcessor

__all__ = ["BatchCounts", "IngestReports", "MetricsReports", "RawIngest"]

log = logging.getLogger(__name__)

Batch = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]

_CHUNK = 1_000
"""Records the core takes at a time, a few milliseconds of work: between two chunks the
event loop runs, so a batch of thousands holds back neither its first hits nor the reads
and commits in flight."""


@dataclass(slots=True)
class BatchCounts:
    """What one batch did, for the worker's metrics."""

    received: int = 0
    ingested: int = 0
    deadlettered: Counter[str] = field(default_factory=Counter)
    """Records dead-lettered, by reason."""
    hits: Counter[str] = field(default_factory=Counter)
    """Hits sent, by signal."""
    resent: int = 0
    """Records sent again from the dead-letter topic."""
    lag: dict[int, int] = field(default_factory=dict)
    """Per raw partition in the batch: records behind its end after the batch."""


class IngestReports(Protocol):
    """Where ingest reports what it did: the worker's metrics, at once or from the
    process ingest runs in (``streams.pipeline.ingest_process``)."""

    def batch(self, counts: BatchCounts) -> None: ...

    def assigned(self, partitions: int) -> None: ...


class MetricsReports:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def batch(self, counts: BatchCounts) -> None:
        metrics = self.metrics
        metrics.records_received.inc(counts.received)
        metrics.items_ingested.inc(counts.ingested)
        for reason, n in counts.deadlettered.items():
            metrics.items_deadlettered.labels(reason).inc(n)
        for signal, n in counts.hits.items():
            metrics.signal_hits.labels(signal).inc(n)
        metrics.records_resent.inc(counts.resent)
        for partition, behind in counts.lag.items():
            metrics.ingest_lag.labels(str(partition)).set(behind)

    def assigned(self, partitions: int) -> None:
        self.metrics.ingest_partitions.set(partitions)
        self.metrics.ingest_assignments.inc()


class RawIngest(Service):
    def __init__(
        self,
        settings: Settings,
        reports: IngestReports,
        core: IngestProcessor,
        crash: Callable[[BaseException], Awaitable[None]],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.reports = reports
        self.core = core
        self._crash_worker = crash
        self._lock = asyncio.Lock()
        """Held while a batch is processed and sent; a rebalance or a stop takes it, then
        waits for the batch being committed, so no partition changes owner between a
        batch's output and its commit."""
        self._committing: asyncio.Future[None] | None = None
        """The last batch's wait for its acknowledgements, then its commit. The next batch
        is processed meanwhile: the round trips cost no processing time."""
        self._generation = 0
        """Rises at each assignment. A batch fetched before one is dropped unprocessed:
        every new assignment starts each partition at its committed offset, so whoever
        owns the batch's partitions now reads it again."""
        self.consumer: AIOKafkaConsumer
        self.producer: AIOKafkaProducer

    async def on_start(self) -> None:
        # Made here, not in __init__: aiokafka clients belong to the running loop.
        settings = self.settings
        security = client_security(settings)
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap,
            group_id=settings.ingest_group,
            client_id=settings.ingest_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # As Faust's own consumer: a dead worker's partitions move within 15 s.
            session_timeout_ms=15_000,
            heartbeat_interval_ms=3_000,
            # A whole batch of items of a few hundred bytes from one partition per fetch.
            max_partition_fetch_bytes=8 << 20,
            **security,
        )
        self.producer = AIOKafkaProducer(
            bootstrap_servers=settings.bootstrap,
            client_id=settings.ingest_group,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
            max_batch_size=1 << 20,
            **security,
        )
        await self.producer.start()
        # The output topics' partitions, known before the first batch: the first send to
        # each would otherwise wait for a metadata round trip, the batch's hits behind it.
        for topic in (settings.topic_signals, settings.topic_deadletter):
            await self.producer.partitions_for(topic)
        await self.consumer.start()
        self.consumer.subscribe([self.settings.topic_raw], listener=_Rebalances(self))

    async def on_stop(self) -> None:
        async with self._lock:  # the batch in hand is sent and committed first
            await self._committed()
            await self.consumer.stop()  # and the group is left, so its partitions move now
        await self.producer.stop()

    @Service.task
    async def _consume(self) -> None:
        try:
            while not self.should_stop:
                try:
                    batch = await self.consumer.getmany(
                        timeout_ms=int(self.settings.batch_within * 1000),
                        max_records=self.settings.ingest_batch_size,
                    )
                except ConsumerStoppedError:
                    return
                # Read with no await in between: the assignment the batch was fetched in.
                generation = self._generation
                if not batch:
                    continue
                async with self._lock:
                    if generation == self._generation and not self.should_stop:
                        pending = await self._process(batch)
                        # One batch in flight at most: its wait ends before the next's begins.
                        await self._committed()
                        offsets = {tp: part[-1].offset + 1 for tp, part in batch.items()}
                        self._committing = asyncio.ensure_future(self._commit(pending, offsets))
        except Exception as exc:
            log.exception("agent crashed; stopping the worker", extra={"agent": "ingest"})
            await self._crash_worker(exc)
            raise

    async def _process(self, batch: Batch) -> list[asyncio.Future[Any]]:
        """Hand the batch to the core and send its output; returns the sends in flight."""
        settings = self.settings
        records = [record for part in batch.values() for record in part]
        counts = BatchCounts(len(records))
        counts.resent = sum(1 for r in records if r.headers and _resent(r.headers))
        for tp, part in batch.items():
            end = self.consumer.highwater(tp)
            if end is not None:
                counts.lag[tp.partition] = max(0, end - part[-1].offset - 1)
        send = self.producer.send
        pending = []
        ticks: dict[int, WatermarkTick] = {}
        for first in range(0, len(records), _CHUNK):
            chunk = records[first : first + _CHUNK]
            done = self.core.process((r.partition, r.value, r.timestamp / 1000.0) for r in chunk)
            counts.ingested += done.items
            for n, rejection in done.rejected:
                record = chunk[n]
                letter = DeadLetter.of_record(rejection.reason, rejection.error, record)
                counts.deadlettered[rejection.reason] += 1
                pending.append(
                    await send(settings.topic_deadletter, encode(letter), key=record.key)
                )
            for hit in done.hits:
                counts.hits[hit.signal_id] += 1
                pending.append(
                    await send(settings.topic_signals, encode(hit), key=hit.key.encode())
                )
            # Event time never moves back: a source's last tick says all its earlier ones do.
            ticks.update((tick.source, tick) for tick in done.ticks)
            # The event loop's turn: it sends these hits and reads fetches and the last
            # batch's commit while the next chunk waits, not after the whole batch.
            await asyncio.sleep(0)
        for tick in ticks.values():
            body = encode(tick)
            for partition in range(settings.partitions):
                pending.append(await send(settings.topic_signals, body, partition=partition))
        self.reports.batch(counts)
        return pending

    async def _commit(
        self, pending: list[asyncio.Future[Any]], offsets: dict[TopicPartition, int]
    ) -> None:
        await asyncio.gather(*pending)
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # The group moved these partitions on: their new owner reads the batch again.
            log.info("ingest batch not committed", extra={"error": str(exc)})

    async def _committed(self) -> None:
        """Wait for the batch in flight; a send that failed crashes the agent here."""
        committing, self._committing = self._committing, None
        if committing is not None:
            await committing

    async def revoked(self) -> None:
        async with self._lock:  # the batch in hand is committed before partitions move
            await self._committed()

    def assigned(self, partitions: set[TopicPartition]) -> None:
        self._generation += 1
        mine = {tp.partition for tp in partitions}
        for source in set(self.core.clocks) - mine:
            # Whoever reads the partition next starts its event time afresh, as after a
            # restart; detection's watermarks never move back.
            self.core.forget(source)
        self.reports.assigned(len(partitions))
        log.info("ingest partitions assigned", extra={"partitions": sorted(mine)})


def _resent(headers: Sequence[tuple[str, bytes]]) -> bool:
    return any(name == RESENT_HEADER for name, _ in headers)


class _Rebalances(ConsumerRebalanceListener):
    def __init__(self, ingest: RawIngest) -> None:
        self.ingest = ingest

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.ingest.revoked()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.ingest.assigned(assigned)
