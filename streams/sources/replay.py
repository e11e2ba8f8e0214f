"""Send input files to the raw topic, paced and with progress, through a plain producer."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from aiokafka import AIOKafkaProducer

from streams.pipeline.topics import ensure_topics
from streams.progress import Progress
from streams.settings import Settings
from streams.sources.files import FileRecord, iter_records

__all__ = ["ReplayReport", "replay", "send_records"]


@dataclass
class ReplayReport:
    sent: int = 0
    unreadable: int = 0
    seconds: float = 0.0


def producer_for(settings: Settings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=256 * 1024,
    )


async def send_records(
    settings: Settings,
    records: Iterable[FileRecord],
    *,
    rate: float | None = None,
    progress: Progress | None = None,
    errors: TextIO = sys.stderr,
) -> ReplayReport:
    await ensure_topics(settings)  # the worker may not have created them yet
    report = ReplayReport()
    started = time.monotonic()
    producer = producer_for(settings)
    await producer.start()
    try:
        pending = []
        for record in records:
            if record.value is None:
                report.unreadable += 1
                errors.write(f"replay: skipped {record.error}\n")
                continue
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


async def replay(settings: Settings, path: Path, rate: float | None = None) -> ReplayReport:
    records = list(iter_records(path))
    return await send_records(
        settings, records, rate=rate, progress=Progress(f"replay {path}", len(records))
    )
