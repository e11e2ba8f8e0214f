"""The Faust application: topics, the detection table and the two agents.

Agents only move records: they take batches, call the pure core (decode, match, count,
detect) and send what it returns. Delivery is at-least-once: each batch's output is
acknowledged by the broker before the batch's input offsets can be committed, and the
table is written only after the alerts it implies are delivered, so a crash can repeat an
alert (same ``alert_id``) but never lose one.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import faust
from faust.sensors.prometheus import setup_prometheus_sensors
from prometheus_client import CollectorRegistry
from pydantic import TypeAdapter, ValidationError

from streams.detect.detector import SignificanceDetector
from streams.detect.engine import DetectConfig, Detection, HitOutcome
from streams.detect.state import KeyState
from streams.detect.windows import WindowSpec
from streams.models import DeadLetter, RawItem, SignalHit, SignalRecord, WatermarkTick
from streams.pipeline.metrics import Metrics
from streams.pipeline.partitions import KeyPartitions
from streams.settings import Settings
from streams.signals.matcher import Matcher
from streams.signals.watchlist import load_watchlist
from streams.sources.decode import Rejection, decode_item, describe

__all__ = ["Watchfloor", "create_app", "detect_config"]

log = logging.getLogger(__name__)
_signal_record: TypeAdapter[SignalHit | WatermarkTick] = TypeAdapter(SignalRecord)


def detect_config(settings: Settings) -> DetectConfig:
    return DetectConfig(
        window=WindowSpec(settings.window_size, settings.window_step, settings.window_grace),
        detector=SignificanceDetector(
            half_life=settings.detector_half_life,
            threshold=settings.detector_threshold,
            beta=settings.detector_beta,
            min_count=settings.detector_min_count,
            warmup=settings.detector_warmup,
        ),
        dedup_horizon=settings.dedup_horizon,
        idle_ttl=settings.idle_key_ttl,
        evidence_limit=settings.evidence_limit,
    )


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
    matcher = Matcher(load_watchlist(settings.watchlist))
    detection = Detection(detect_config(settings))

    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{hp.strip()}" for hp in settings.bootstrap.split(",")],
        store="memory://",
        autodiscover=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        web_enabled=True,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_commit_interval=1.0,
        # The detect agent alone writes the table; keys go where the signals topic's
        # partitioner sends them (one obvious partition per key, even for batched writes).
        table_standby_replicas=0,
    )
    setup_prometheus_sensors(app, registry=registry, name_prefix="faust")

    def topic(name: str) -> faust.TopicT:
        return app.topic(
            name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.partitions,
            replicas=settings.replication_factor,
            internal=True,  # declare (create) it with our partition count if missing
        )

    raw_topic = topic(settings.topic_raw)
    signals_topic = topic(settings.topic_signals)
    alerts_topic = topic(settings.topic_alerts)
    deadletter_topic = topic(settings.topic_deadletter)
    state = app.Table(
        "detect-state",
        schema=faust.Schema(
            key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
        ),
        partitions=settings.partitions,
        use_partitioner=True,
    )

    async def dead_letter(event: faust.EventT, rejection: Rejection) -> Any:
        msg = event.message
        record = DeadLetter(
            reason=rejection.reason,
            error=rejection.error,
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            key_b64=_b64(msg.key),
            original_b64=_b64(msg.value) or "",
            failed_at=datetime.now(UTC),
        )
        metrics.items_deadlettered.labels(rejection.reason).inc()
        log.debug("dead-lettered", extra={"reason": rejection.reason, "offset": msg.offset})
        return await deadletter_topic.send(
            key=msg.key, value=record.model_dump_json().encode(), force=True
        )

    @app.agent(raw_topic, name="ingest")
    async def ingest(stream: faust.StreamT[bytes]) -> None:
        """Decode and validate raw items, match every signal in one pass, emit hits."""
        watermark = float("-inf")
        async for events in stream.take_events(settings.batch_size, settings.batch_within):
            pending = []
            for event in events:
                metrics.records_received.inc()
                item = decode_item(event.message.value)
                if isinstance(item, Rejection):
                    pending.append(await dead_letter(event, item))
                    continue
                metrics.items_ingested.inc()
                ts = item.published_at.timestamp()
                watermark = max(watermark, ts)
                for hit in _hits(matcher, item, event.message.timestamp, watermark):
                    metrics.signal_hits.labels(hit.signal_id).inc()
                    pending.append(
                        await signals_topic.send(
                            key=hit.key.encode(), value=hit.model_dump_json().encode(), force=True
                        )
                    )
            if watermark > float("-inf"):
                tick = WatermarkTick(watermark=datetime.fromtimestamp(watermark, UTC))
                body = tick.model_dump_json().encode()
                for partition in range(settings.partitions):
                    pending.append(
                        await signals_topic.send(value=body, partition=partition, force=True)
                    )
            await asyncio.gather(*pending)

    keys = KeyPartitions(settings.partitions)
    watermarks: dict[int, float] = {}

    @app.agent(signals_topic, name="detect")
    async def detect(stream: faust.StreamT[bytes]) -> None:
        """Count hits into windows per key; close passed windows; alert on spikes."""
        async for events in stream.take_events(settings.batch_size, settings.batch_within):
            if keys.needs_seed:
                keys.seed(bytes(k) for k in state.keys())
            touched: dict[bytes, KeyState] = {}
            advanced: set[int] = set()
            rejected = []
            for event in events:
                partition = event.message.partition
                try:
                    record = _signal_record.validate_json(event.message.value or b"")
                except ValidationError as exc:
                    rejected.append(
                        await dead_letter(event, Rejection("validation_failed", describe(exc)))
                    )
                    continue
                mark = watermarks.get(partition, float("-inf"))
                if isinstance(record, WatermarkTick):
                    new_mark = max(mark, record.watermark.timestamp())
                else:
                    key = record.key.encode()
                    ks = touched.get(key) or _load(state, key) or detection.new_state(record)
                    # The ingest watermark rides on each hit, so lateness is judged per
                    # item as if events were processed one by one, whatever the batching.
                    new_mark = max(
                        mark, record.published_at.timestamp(), record.watermark.timestamp()
                    )
                    _count(detection, metrics, ks, record, new_mark)
                    touched[key] = ks
                    keys.add(key, partition)
                if new_mark > mark:
                    watermarks[partition] = new_mark
                    advanced.add(partition)
            for partition in advanced:
                for key in keys.open_in(partition):
                    if key not in touched and (ks := _load(state, key)) is not None:
                        touched[key] = ks
            if not touched:
                await asyncio.gather(*rejected)
                continue
            now = datetime.now(UTC)
            sends = rejected
            for key, ks in touched.items():
                mark = watermarks.get(keys.partition_of(key), float("-inf"))
                for alert in detection.advance(ks, mark, matcher.version, now):
                    metrics.alerts_emitted.labels(alert.signal_id, alert.severity).inc()
                    log.info(
                        "alert",
                        extra={"alert_id": alert.alert_id, "key": alert.key, "count": alert.count},
                    )
                    sends.append(
                        await alerts_topic.send(
                            key=key, value=alert.model_dump_json().encode(), force=True
                        )
                    )
            # Alerts first, state second: a crash in between repeats an alert, never loses one.
            await asyncio.gather(*sends)
            for key, ks in touched.items():
                if detection.expired(ks):
                    state.pop(key, None)
                    keys.discard(key)
                else:
                    state[key] = ks.dumps()
                    keys.set_open(key, bool(ks.windows))
            metrics.active_keys.set(len(state))
            if watermarks:
                metrics.watermark.set(max(watermarks.values()))

    @app.on_partitions_assigned.connect
    async def _on_assigned(app: faust.App, assigned: Any, **_: Any) -> None:
        # Restored table entries may hold open windows that only a watermark closes.
        keys.mark_stale()

    return Watchfloor(app=app, settings=settings, metrics=metrics, matcher=matcher)


def _hits(matcher: Matcher, item: RawItem, broker_ts: float, watermark: float) -> list[SignalHit]:
    matches = matcher.match(item.title, (item.deck, item.body), item.region, item.importance)
    if not matches:
        return []
    published = item.published_at.astimezone(UTC)
    ingested = datetime.fromtimestamp(broker_ts, UTC)
    return [
        SignalHit(
            key=m.key,
            signal_id=m.signal_id,
            region=m.region,
            item_id=item.id,
            title=item.title,
            url=item.url,
            publisher=item.publisher,
            published_at=published,
            importance=item.importance,
            matched_terms=list(m.terms),
            ingested_at=ingested,
            watermark=datetime.fromtimestamp(watermark, UTC),
            watchlist_version=matcher.version,
        )
        for m in matches
    ]


def _count(
    detection: Detection, metrics: Metrics, ks: KeyState, hit: SignalHit, watermark: float
) -> None:
    outcome = detection.add(ks, hit, watermark)
    if outcome is HitOutcome.COUNTED:
        metrics.hits_counted.labels(hit.signal_id).inc()
        metrics.processing_latency.observe(max(0.0, time.time() - hit.ingested_at.timestamp()))
    elif outcome is HitOutcome.DUPLICATE:
        metrics.duplicates_dropped.labels(hit.signal_id).inc()
    else:
        metrics.late_events.labels(hit.signal_id).inc()


def _load(table: Any, key: bytes) -> KeyState | None:
    data = table.get(key)
    return None if data is None else KeyState.loads(data)


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()
