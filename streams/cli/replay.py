"""Send input files to the raw topic, paced and with progress, through a plain producer."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from aiokafka import AIOKafkaProducer

from streams.codec import encode
from streams.kafka_security import client_security
from streams.models import DeadLetter
from streams.pipeline.topics import ensure_topics
from streams.progress import Progress
from streams.settings import Settings
from streams.sources.decode import Rejection, decode_item
from streams.sources.files import FileRecord, iter_records

__all__ = ["ReplayReport", "replay", "send_records"]


@dataclass
class ReplayReport:
    sent: int = 0
    invalid: int = 0
    """Sent records that fail validation: ingest dead-letters them with the reason."""
    reasons: Counter[str] = field(default_factory=Counter)
    """The invalid records per rejection reason."""
    examples: dict[str, str] = field(default_factory=dict)
    """Per reason, where the first such record was and its error."""
    unreadable: int = 0
    """Files (or rows) that could not be read as records at all, so were not sent."""
    too_large: int = 0
    """Records over the size limit: sent to the dead-letter topic, not the raw one."""
    seconds: float = 0.0


def producer_for(settings: Settings, *, linger_ms: int = 5) -> AIOKafkaProducer:
    """``linger_ms``: 0 for a sender that fills its own batches."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        max_batch_size=256 * 1024,
        **client_security(settings),
    )


async def send_records(
    settings: Settings,
    records: Iterable[FileRecord],
    *,
    rate: float | None = None,
    speedup: float | None = None,
    progress: Progress | None = None,
    errors: TextIO | None = None,
) -> ReplayReport:
    """Send records in order; ``rate`` paces records per second, ``speedup`` paces by event
    time (``published_at``), ``speedup`` times faster than it happened."""
    errors = errors if errors is not None else sys.stderr
    await ensure_topics(settings)  # the worker may not have created them yet
    report = ReplayReport()
    started = time.monotonic()
    producer = producer_for(settings)
    await producer.start()
    try:
        pending = []
        first_event: float | None = None
        for record in records:
            if record.value is None:
                report.unreadable += 1
                errors.write(f"replay: skipped {record.error}\n")
                continue
            item = decode_item(
                record.value, received_at=time.time(), max_ahead=settings.max_event_ahead
            )
            if isinstance(item, Rejection) and item.reason == "too_large":
                # The raw topic would refuse it: dead-letter it here, with its start.
                letter = DeadLetter.build(
                    item.reason, item.error, record.value, source="file", topic=record.where
                )
                pending.append(await producer.send(settings.topic_deadletter, value=encode(letter)))
                report.too_large += 1
                continue
            if isinstance(item, Rejection):
                report.invalid += 1
                report.reasons[item.reason] += 1
                report.examples.setdefault(item.reason, f"{record.where}: {item.error}")
            elif speedup:
                event = item.published_at.timestamp()
                first_event = event if first_event is None else first_event
                # Event time, compressed: out-of-order (earlier) records go at once.
                ahead = (event - first_event) / speedup - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
            pending.append(
                await producer.send(settings.topic_raw, value=record.value, key=record.key)
            )
            report.sent += 1
            if rate:
                # Pace against the schedule, not per record, so sleeps don't accumulate drift.
                ahead = report.sent / rate - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
            if len(pending) >= 10_000:
                await asyncio.gather(*pending)
                pending.clear()
            if progress:
                progress.update(report.sent)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    report.seconds = time.monotonic() - started
    if progress:
        progress.update(report.sent, force=True)
    return report


async def replay(
    settings: Settings,
    path: Path,
    rate: float | None = None,
    speedup: float | None = None,
    columns: Mapping[str, str] | None = None,
    id_from: Sequence[str] | None = None,
) -> ReplayReport:
    records = list(iter_records(path, columns, id_from))
    return await send_records(
        settings,
        records,
        rate=rate,
        speedup=speedup,
        progress=Progress(f"replay {path}", len(records)),
    )
