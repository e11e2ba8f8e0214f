"""The ``detect`` agent: signal hits counted into windows per key, spikes alerted.

Consumes the signals topic with Faust, so that its per-key state lives in a
changelog-backed table that recovery and rebalances restore, and so that the
``exactly_once`` guarantee can put a batch's alerts and state in one transaction. Each
batch goes to the pure ``DetectProcessor``; this module sends what it returns.

At least once, the table is written only after the alerts it implies are acknowledged,
so a crash can repeat an alert (same ``alert_id``) but never lose one; the ids already on
the alerts topic are read again after a rebalance so that a successor repeats none.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any, cast

import faust
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2
from faust.types import FutureMessage
from pydantic import TypeAdapter, ValidationError

from streams.codec import encode
from streams.detect.engine import Detection, HitOutcome
from streams.detect.key_cap import KeyCap, signal_of
from streams.detect.processor import BatchResult, DetectProcessor, OpenKeys
from streams.detect.write_behind import WriteBehind
from streams.models import Alert, DeadLetter, SignalHit, SignalRecord, WatermarkTick
from streams.pipeline.agent import AgentContext, batches, crash_worker_on_error
from streams.pipeline.config import detect_config
from streams.pipeline.in_order import OrderedInput, log_start
from streams.pipeline.metrics import Metrics
from streams.pipeline.sent_alerts import sent_alert_ids
from streams.pipeline.transactions import HandOver, exact_changelog_ends
from streams.signals.watchlist import Watchlist
from streams.sources.decode import Rejection, describe

__all__ = ["install"]

log = logging.getLogger(__name__)
_signal_record: TypeAdapter[SignalHit | WatermarkTick] = TypeAdapter(SignalRecord)


def install(ctx: AgentContext) -> None:
    app, settings, metrics = ctx.app, ctx.settings, ctx.metrics
    signals_topic = ctx.signals
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
    # Writes reach it (and its changelog) once per key in front of each offset commit, or
    # at the end of each batch with exactly_once, whose transactions need them there.
    state = WriteBehind(cast(MutableMapping[bytes, bytes], table))
    exactly_once = settings.processing_guarantee == "exactly_once"
    # Held while a detect batch writes its alerts and state, and by every transaction
    # commit: a transaction then never ends between an alert and the state recording it.
    batch_output = asyncio.Lock()
    hand_over: HandOver | None = None
    # Hits and ticks must reach detection in log order: a record Faust lost is read again
    # at once, before later ticks judge the windows it belongs to.
    ordered = OrderedInput(
        app,
        metrics.partition_rereads.labels("missing_record"),
        lambda tp: log_start(settings, tp),
    )
    if exactly_once:
        exact_changelog_ends()

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
        return await ctx.deadletter.send(key=msg.key, value=encode(record), force=True)

    processor = DetectProcessor(
        Detection(detect_config(settings, ctx.watchlist)),
        state,
        open_keys,
        ctx.matcher.version,
        sources=settings.partitions,
        idle_after=settings.idle_partition_timeout,
        max_bytes=settings.state_max_bytes,
        key_cap=KeyCap(settings.max_keys_per_signal, settings.partitions, open_keys.partition_of),
    )
    trims_logged: set[bytes] = set()
    """Keys whose trimming was logged: once each (up to a bound), not at every write."""

    signals_now = {s.id for s in ctx.watchlist.signals}
    removed: set[str] = set()
    """Signals a new watchlist dropped, whose keys the next batch expires."""

    def take(watchlist: Watchlist) -> None:
        # In the event loop, so never inside process(): the next batch uses it whole.
        nonlocal signals_now
        ids = {s.id for s in watchlist.signals}
        removed.update(signals_now - ids)
        removed.difference_update(ids)
        signals_now = ids
        processor.detection = Detection(detect_config(settings, watchlist))
        processor.version = watchlist.version

    ctx.watchlists.subscribe(take)

    def expire_removed() -> None:
        gone = [key for k in list(state) if signal_of(key := bytes(k)) in removed]
        for key in gone:
            processor.drop(key)
        if gone:
            log.info(
                "keys of signals no longer watched expired",
                extra={"signals": sorted(removed), "keys": len(gone)},
            )
        removed.clear()

    already_sent: dict[int, set[str]] = {}
    """Per signals partition, the ids on its alerts partition when this worker took it (at
    least once; read as soon as it is assigned, and waited for by its first batch)."""
    reading: dict[int, asyncio.Future[None]] = {}
    """Per signals partition assigned, the read of its ids begun then."""
    assignments = 0

    async def read_sent(partitions: set[int], assignment: int) -> None:
        try:
            ids = await sent_alert_ids(settings, partitions)
        except (TimeoutError, KafkaError) as exc:
            log.warning(
                "could not read the alerts already sent; a repeat is possible",
                extra={"error": str(exc)},
            )
            ids = set()
        if assignment != assignments:
            return  # the partitions moved meanwhile; the new assignment reads its own
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
        if hand_over is not None:
            async with hand_over.batch():
                # Partitions moved while this batch waited: their next owner reads them.
                mine = [(p, r) for p, r in records if hand_over.owns(p)]
                if len(mine) != len(records):
                    log.info(
                        "records of partitions given away left to their new owner",
                        extra={"records": len(records) - len(mine)},
                    )
                result, repeats = await detect_output(mine, sends)
                # Acknowledged before the lock is let go: a revocation right after
                # commits their offsets with the transaction that holds their output.
                for event in events:
                    event.ack()
        else:
            async with batch_output:
                result, repeats = await detect_output(records, sends)
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
        for signal, folded in result.folded.items():
            metrics.keys_folded.labels(signal).inc(folded)
        for signal, partition in result.capped:
            log.warning(
                "signal holds WATCHFLOOR_MAX_KEYS_PER_SIGNAL keys: reports for new keys count "
                "under its other key",
                extra={
                    "signal": signal,
                    "partition": partition,
                    "keys": processor.key_cap.per_partition,
                    "other_key": processor.key_cap.other(signal, partition),
                },
            )
        metrics.state_trimmed.inc(len(result.trimmed))
        for key in result.trimmed - trims_logged:
            if len(trims_logged) < 10_000:
                trims_logged.add(key)
                log.warning(
                    "key state larger than WATCHFLOOR_STATE_MAX_BYTES: evidence cut to fit",
                    extra={"key": key.decode(errors="replace")},
                )
        metrics.active_keys.set(len(state))
        if processor.watermarks:
            metrics.watermark.set(max(processor.watermarks.values()))

    async def detect_output(
        records: list[tuple[int, SignalHit | WatermarkTick]], sends: list[Any]
    ) -> tuple[BatchResult, list[Alert]]:
        """Alerts sent and state written for ``records``; the caller holds the output lock."""
        if not exactly_once:
            unread = {p for p, _ in records} - already_sent.keys()
            if unread:
                await asyncio.gather(*{reading[p] for p in unread if p in reading})
                if unread := unread - already_sent.keys():
                    await read_sent(unread, assignments)
        if removed:
            expire_removed()
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
        if exactly_once:
            await write_state()
        return result, repeats

    async def write_state() -> None:
        """The keys changed since the last write, to the table and its changelog."""
        written = state.flush()
        metrics.state_writes.inc(written)
        sent = table.take_sent()
        if sent and not exactly_once:
            # Out of Faust's buffer now: on the way out, the commit before the producer
            # stops must not wait on a buffer nobody drains any more.
            await app.producer.flush()
        # A send that failed fails here: at least once, the commit it came before.
        await asyncio.gather(*sent)

    @app.agent(signals_topic, name="detect")
    async def detect(stream: faust.StreamT[bytes]) -> None:
        nonlocal hand_over
        if exactly_once:
            hand_over = hand_over or HandOver(app, batch_output, write_state)
            hand_over.install(app.consumer, app.producer)
        else:
            _write_before_commits(app.consumer, write_state)
        ordered.install(app.consumer)
        async for events in batches(stream, settings):
            async with crash_worker_on_error(app, "detect"):
                if taken := await ordered.take(events):
                    await detect_batch(taken)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # stubs predate async receivers
    async def _on_revoked(app: faust.App, revoked: Any, **_: Any) -> None:
        ordered.revoked()
        # With stream_wait_empty off, Faust does not commit on a rebalance; what the
        # batches since the last commit changed is written now, while the partitions are
        # still ours, and their next owner reads those batches again on top of it.
        await write_state()

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]  # stubs predate async receivers
    async def _on_assigned(app: faust.App, assigned: Any, **_: Any) -> None:
        # Restored table entries may hold open windows that only a watermark closes.
        open_keys.stale = True
        # What a predecessor sent is read again, at once: the first hits after a start or
        # a rebalance then do not wait for it.
        nonlocal assignments
        assignments += 1
        already_sent.clear()
        reading.clear()
        signals = {tp.partition for tp in assigned if tp.topic == settings.topic_signals}
        if signals and not exactly_once:
            read = asyncio.ensure_future(read_sent(signals, assignments))
            reading.update(dict.fromkeys(signals, read))
        if hand_over is not None:
            # Faust started the transactional producers of the new assignment before
            # this signal; entries of partitions given away leave the table without a
            # changelog write (their next owner's; an aborted write must not linger here).
            hand_over.assigned(signals, transactional_id)
            hand_over.forget_others(cast(Any, table).data, open_keys.partition_of)


def _write_before_commits(consumer: Any, write: Callable[[], Awaitable[None]]) -> None:
    """Make every offset commit of Faust's consumer wait until detection's state is written.

    At least once, a commit must never cover a batch whose state is still only in the
    write-behind store: the state would be lost with the worker and the batch not read
    again. Every commit, on a timer or on stopping, goes through ``force_commit``.
    """
    if getattr(consumer, "_watchfloor_writes_first", False):
        return
    force_commit = consumer.force_commit

    async def write_then_commit(*args: Any, **kwargs: Any) -> bool:
        await write()
        return bool(await force_commit(*args, **kwargs))

    consumer.force_commit = write_then_commit
    consumer._watchfloor_writes_first = True


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
