"""The Faust application: topics, the detection table and the two agents.

Agents only move records: they take batches, call the pure core (decode, match, count,
detect) and send what it returns. Delivery is at-least-once: each batch's output is
acknowledged by the broker before the batch's input offsets can be committed, and the
table is written only after the alerts it implies are delivered, so a crash can repeat an
alert (same ``alert_id``) but never lose one.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import faust
import mode
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2
from faust.sensors.prometheus import setup_prometheus_sensors
from faust.types import FutureMessage
from faust.types.transports import ProducerT
from prometheus_client import CollectorRegistry
from pydantic import TypeAdapter, ValidationError

from streams.codec import encode
from streams.detect.engine import Detection, HitOutcome
from streams.detect.processor import DetectProcessor, OpenKeys
from streams.kafka_security import faust_credentials
from streams.models import DeadLetter, SignalHit, SignalRecord, WatermarkTick
from streams.pipeline.config import detect_config, ingest_processor
from streams.pipeline.feeds import add_feed_poller
from streams.pipeline.health import add_kafka_probe
from streams.pipeline.http_items import add_items_endpoint
from streams.pipeline.ingest_process import IngestProcesses
from streams.pipeline.metrics import Metrics
from streams.pipeline.offsets import add_commit_guards
from streams.pipeline.raw_ingest import MetricsReports, RawIngest
from streams.pipeline.sent_alerts import sent_alert_ids
from streams.settings import Settings
from streams.signals.matcher import Matcher
from streams.signals.watchlist import load_watchlist
from streams.sources.decode import Rejection, describe

__all__ = ["Watchfloor", "create_app"]

log = logging.getLogger(__name__)
_signal_record: TypeAdapter[SignalHit | WatermarkTick] = TypeAdapter(SignalRecord)


@dataclass
class Watchfloor:
    """A configured app and the parts tests and commands reach for."""

    app: faust.App
    settings: Settings
    metrics: Metrics
    matcher: Matcher


def create_app(settings: Settings, registry: CollectorRegistry | None = None) -> Watchfloor:
    registry = registry if registry is not None else CollectorRegistry()
    metrics = Metrics(registry)
    watchlist = load_watchlist(settings.watchlist)
    matcher = Matcher(watchlist)

    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{hp.strip()}" for hp in settings.bootstrap.split(",")],
        broker_credentials=faust_credentials(settings),
        store="memory://",
        # Beside the local broker's files, not in whatever folder the worker started in.
        datadir=str(settings.home / f"{settings.app_id}-data"),
        autodiscover=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        web_enabled=True,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        consumer_auto_offset_reset="earliest",
        processing_guarantee=settings.processing_guarantee,
        producer_acks=-1,
        broker_commit_interval=1.0,
        # A worker that dies without leaving the group holds its partitions until its
        # session times out; Faust's 60 s default stalls fail-over for a minute.
        broker_session_timeout=15.0,
        broker_heartbeat_interval=3.0,
        # Faust's default waits, on stop and rebalance, until every in-flight event is
        # acknowledged; after an agent crash that wait never ends and the worker hangs.
        # Unacknowledged offsets are not committed either way, so nothing is lost.
        stream_wait_empty=False,
    )
    setup_prometheus_sensors(app, registry=registry, name_prefix="faust")
    _idempotent_producers(app.producer)

    def topic(name: str) -> faust.TopicT:
        # Created beforehand by `ensure_topics`; records are bytes we encode ourselves.
        return _Untransacted(
            app,
            topics=[name],
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        )

    raw_topic = topic(settings.topic_raw)
    signals_topic = topic(settings.topic_signals)
    deadletter_topic = topic(settings.topic_deadletter)
    open_keys = OpenKeys(lambda key: _default_partition(key, settings.partitions))
    table = _KeyedTable(
        app,
        open_keys,
        name="detect-state",
        # key_type/value_type, not only the schema: Faust picks the changelog's
        # serializers from them and falls back to JSON, which recovery then can't read.
        key_type=bytes,
        value_type=bytes,
        schema=faust.Schema(
            key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
        ),
        partitions=settings.partitions,
    )
    app.tables.add(table)
    # Faust's stubs type tables as plain collections; this one is a mapping of raw bytes.
    state = cast(MutableMapping[bytes, bytes], table)
    exactly_once = settings.processing_guarantee == "exactly_once"
    # Held while a detect batch writes its alerts and state, and by every transaction
    # commit: a transaction then never ends between an alert and the state recording it.
    batch_output = asyncio.Lock()

    def transactional_id(partition: int) -> str | None:
        """The transaction Faust commits ``partition``'s signals offsets in (its format)."""
        if not exactly_once:
            return None
        group = app.assignor.group_for_topic(settings.topic_signals)
        return f"{app.conf.id}-{group}-{partition}"

    async def dead_letter(event: faust.EventT, rejection: Rejection) -> Any:
        msg = event.message
        record = DeadLetter.of_record(rejection.reason, rejection.error, msg)
        metrics.items_deadlettered.labels(rejection.reason).inc()
        log.debug("dead-lettered", extra={"reason": rejection.reason, "offset": msg.offset})
        return await deadletter_topic.send(key=msg.key, value=encode(record), force=True)

    processor = DetectProcessor(
        Detection(detect_config(settings, watchlist)),
        state,
        open_keys,
        matcher.version,
        sources=settings.partitions,
        idle_after=settings.idle_partition_timeout,
    )

    already_sent: dict[int, set[str]] = {}
    """Per signals partition, the ids on its alerts partition when this worker first
    processed it after taking it (at least once; read before its first batch)."""

    async def read_sent(partitions: set[int]) -> None:
        try:
            ids = await sent_alert_ids(settings, partitions)
        except (TimeoutError, KafkaError) as exc:
            log.warning(
                "could not read the alerts already sent; a repeat is possible",
                extra={"error": str(exc)},
            )
            ids = set()
        for partition in partitions:
            # An alert goes only to its key's partition: the partitions can share one set.
            already_sent[partition] = ids
        log.info(
            "alerts already on the topic",
            extra={"partitions": sorted(partitions), "alerts": len(ids)},
        )

    async def detect_batch(events: list[faust.EventT]) -> None:
        """Count hits into windows per key; close passed windows; alert on spikes."""
        sends = []
        records: list[tuple[int, SignalHit | WatermarkTick]] = []
        for event in events:
            try:
                record = _signal_record.validate_json(event.message.value or b"")
            except ValidationError as exc:
                rejection = Rejection("validation_failed", describe(exc))
                sends.append(await dead_letter(event, rejection))
                continue
            records.append((event.message.partition, record))
        async with batch_output:
            if not exactly_once:
                unread = {p for p, _ in records} - already_sent.keys()
                if unread:
                    await read_sent(unread)
            result = processor.process(records, datetime.now(UTC))
            repeats = [
                a
                for a in result.alerts
                if a.alert_id in already_sent.get(open_keys.partition_of(a.key.encode()), ())
            ]
            for alert in result.alerts:
                if alert in repeats:
                    continue
                log.info(
                    "alert",
                    extra={
                        "alert_id": alert.alert_id,
                        "burst_id": alert.burst_id,
                        "update": alert.update,
                        "key": alert.key,
                        "scale": alert.scale,
                        "count": alert.count,
                    },
                )
                # The key's partition, in the transaction of its signals partition.
                partition = open_keys.partition_of(alert.key.encode())
                sent = await app.producer.send(
                    settings.topic_alerts,
                    alert.key.encode(),
                    encode(alert),
                    partition,
                    None,
                    None,
                    transactional_id=transactional_id(partition),
                )
                sends.append(sent)
            # Alerts first, state second: at least once, a crash in between repeats an
            # alert, never loses one; exactly once, both are in one transaction.
            await asyncio.gather(*sends)
            processor.commit(result)
            await asyncio.gather(*table.take_sent())
        now = time.time()
        for hit, outcome in result.outcomes:
            _count(metrics, hit, outcome, now)
        metrics.alerts_suppressed.inc(result.suppressed)
        metrics.crossings_merged.inc(result.merged)
        metrics.windows_revised.inc(result.revised)
        metrics.alerts_already_sent.inc(len(repeats))
        for alert in result.alerts:
            if alert not in repeats:
                metrics.alerts_emitted.labels(alert.signal_id, alert.severity).inc()
        metrics.active_keys.set(len(state))
        if processor.watermarks:
            metrics.watermark.set(max(processor.watermarks.values()))

    raw_ingest: mode.Service
    if settings.ingest_processes:
        raw_ingest = IngestProcesses(settings, metrics, settings.ingest_processes, app.crash)
    else:
        core = ingest_processor(settings, matcher)
        raw_ingest = RawIngest(settings, MetricsReports(metrics), core, app.crash)

    @app.task
    async def start_ingest() -> None:
        # Once the worker is up (topics made, tables recovered), as Faust starts its agents:
        # a worker that fails to start has then sent nothing.
        # The ~100,000 objects of a started worker (modules, app, watchlist) live as long as
        # it does: frozen out of the collector, a full collection no longer scans them,
        # which took 30-60 ms, a pause every hit in flight would wait out.
        gc.collect()
        gc.freeze()
        await app.add_runtime_dependency(raw_ingest)

    @app.agent(signals_topic, name="detect")
    async def detect(stream: faust.StreamT[bytes]) -> None:
        if exactly_once:
            _commit_between_batches(app.producer, batch_output)
        async for events in _batches(stream, settings):
            async with _crash_worker_on_error(app, "detect"):
                await detect_batch(list(events))

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]  # stubs predate async receivers
    async def _on_assigned(app: faust.App, assigned: Any, **_: Any) -> None:
        # Restored table entries may hold open windows that only a watermark closes.
        open_keys.stale = True
        # What a predecessor sent is read again before each partition's first batch.
        already_sent.clear()
        mine = sum(1 for tp in assigned if tp.topic == settings.topic_signals)
        if exactly_once and mine < settings.partitions:
            # faust-streaming 0.15 mishandles transactional producers on rebalance
            # (docs/reliability.md): say so plainly rather than leave only its crash.
            log.error(
                "exactly_once supports one worker per app id; this group has more, and a "
                "rebalance may crash workers: run one worker, or use at_least_once",
                extra={"app_id": settings.app_id, "partitions": mine, "of": settings.partitions},
            )

    add_items_endpoint(app, settings, metrics, raw_topic, deadletter_topic)
    add_feed_poller(app, settings, metrics, topic, raw_topic)
    add_kafka_probe(app, settings, metrics)
    add_commit_guards(app, settings.commit_stall_timeout, metrics.partition_rereads)
    return Watchfloor(app=app, settings=settings, metrics=metrics, matcher=matcher)


def _batches(stream: faust.StreamT[bytes], settings: Settings) -> AsyncIterable[Any]:
    """Batches of events. ``take_events`` is on Faust's Stream, not on its StreamT protocol."""
    return cast(faust.Stream, stream).take_events(settings.batch_size, settings.batch_within)


@asynccontextmanager
async def _crash_worker_on_error(app: faust.App, agent: str) -> AsyncIterator[None]:
    """A bug must stop the worker, not leave a live process that consumes nothing.

    Faust logs a crashed agent and carries on without it; the offsets of the failed batch
    are never committed, so a restarted worker (by its supervisor) retries the batch.
    """
    try:
        yield
    except Exception as exc:
        log.exception("agent crashed; stopping the worker", extra={"agent": agent})
        await app.crash(exc)
        raise


class _Untransacted(faust.Topic):
    """A topic whose sends never join a Kafka transaction.

    With ``exactly_once`` Faust routes every send into the transaction of the partition it
    is sent to, which exists only on the worker that owns that partition: an ingest or
    HTTP send to a partition another worker owns would fail, and its output would wait in
    a transaction that only that worker's commits end. Ingest's output (hits, ticks, dead
    letters, raw items from HTTP and feeds) is idempotent downstream, since detection
    counts each item id once, so it is sent outside transactions, acknowledged before
    its input offsets commit: at least once. Alerts and detection state are what the
    transactions cover.
    """

    async def _get_producer(self) -> ProducerT:
        producer = self.app.producer
        await producer.maybe_start()
        return producer


def _idempotent_producers(producer: ProducerT) -> None:
    """acks=all and idempotence on every producer the worker starts, not only with
    exactly_once: a retried send is then written once, so a broker fail-over repeats no
    hit, dead letter or alert. Faust has no setting for it; its producer asks this hook
    for extra client settings when it makes each aiokafka producer."""
    producer._settings_extra = lambda: {"acks": "all", "enable_idempotence": True}  # type: ignore[attr-defined]


def _commit_between_batches(producer: ProducerT, lock: asyncio.Lock) -> None:
    """Make Faust's transaction commits wait for the detect batch being written.

    Faust commits on a timer, whenever it fires; a commit between an alert and the state
    that records it would make one durable without the other.
    """
    if getattr(producer, "_watchfloor_locked", False):
        return
    commit = producer.commit_transactions

    async def commit_transactions(*args: Any, **kwargs: Any) -> None:
        async with lock:
            await commit(*args, **kwargs)

    producer.commit_transactions = commit_transactions  # type: ignore[method-assign]
    producer._watchfloor_locked = True  # type: ignore[attr-defined]


class _KeyedTable(faust.Table):
    """A table whose entries go to the changelog partition of their key, not of the event.

    Faust writes an entry to the partition of the event being processed; in a batch that
    is the batch's last event, which may belong to another key. Each key's partition is
    the one the signals topic placed it in, so state stays co-partitioned with its input.
    """

    def __init__(self, app: faust.App, keys: OpenKeys, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._keys = keys
        self._sent: list[FutureMessage] = []

    def partition_for_key(self, key: Any) -> int:
        return self._keys.partition_of(key)

    def send_changelog(self, *args: Any, **kwargs: Any) -> FutureMessage:
        # Kept so the batch can wait for its state to be sent (into its transaction, with
        # exactly_once) before its offsets may commit.
        fut = super().send_changelog(*args, **kwargs)
        self._sent.append(fut)
        return fut

    def take_sent(self) -> list[FutureMessage]:
        sent, self._sent = self._sent, []
        return sent


def _count(metrics: Metrics, hit: SignalHit, outcome: HitOutcome, now: float) -> None:
    if outcome is HitOutcome.COUNTED:
        metrics.hits_counted.labels(hit.signal_id).inc()
        metrics.processing_latency.observe(max(0.0, now - hit.ingested_at.timestamp()))
    elif outcome is HitOutcome.DUPLICATE:
        metrics.duplicates_dropped.labels(hit.signal_id).inc()
    elif outcome is HitOutcome.SYNDICATED:
        metrics.syndicated_copies.labels(hit.signal_id).inc()
    else:
        metrics.late_events.labels(hit.signal_id).inc()


def _default_partition(key: bytes, partitions: int) -> int:
    """Where the producer's default partitioner (Java client's murmur2) puts ``key``."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions
