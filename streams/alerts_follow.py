"""Follow the alerts topic and print alerts for people (or as JSON lines for machines)."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TextIO

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from streams.models import Alert
from streams.settings import Settings

__all__ = ["follow_alerts", "format_alert"]


def format_alert(alert: Alert) -> str:
    start = alert.window_start.strftime("%Y-%m-%d %H:%M")
    end = alert.window_end.strftime("%H:%M")
    lines = [
        f"[{alert.severity.upper()}] {alert.signal_id} | {alert.region}  {start}–{end} UTC",
        f"  {alert.count} reports from {alert.publishers} publishers, expected "
        f"{alert.baseline:.2f}, score {alert.score:.1f} "
        f"({alert.detector.name}) · alert {alert.alert_id[:12]}",
    ]
    for ev in alert.evidence:
        when = ev.published_at.strftime("%m-%d %H:%M")
        terms = ", ".join(ev.matched_terms[:6])
        lines.append(f"  - {when} {ev.title} — {ev.source or '?'}")
        lines.append(f"      {ev.url or ev.id}  [{terms}]")
    return "\n".join(lines)


async def follow_alerts(
    settings: Settings,
    *,
    as_json: bool = False,
    from_beginning: bool = True,
    idle_exit: float | None = None,
    limit: int | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """Print alerts until ``limit`` are shown or none arrived for ``idle_exit`` seconds."""
    # No consumer group: following alerts must never steal partitions from a real consumer.
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, enable_auto_commit=False)
    await consumer.start()
    shown = 0
    try:
        partitions = await _wait_for_partitions(consumer, settings.topic_alerts)
        tps = [TopicPartition(settings.topic_alerts, p) for p in sorted(partitions)]
        consumer.assign(tps)
        if from_beginning:
            await consumer.seek_to_beginning(*tps)
        else:
            await consumer.seek_to_end(*tps)
        last = time.monotonic()
        while limit is None or shown < limit:
            batch = await consumer.getmany(timeout_ms=500)
            records = [r for rs in batch.values() for r in rs]
            if not records:
                if idle_exit is not None and time.monotonic() - last > idle_exit:
                    break
                continue
            last = time.monotonic()
            for record in records:
                out.write(_render(record.value or b"", as_json) + "\n")
                out.flush()
                shown += 1
    finally:
        await consumer.stop()
    return shown


def _render(value: bytes, as_json: bool) -> str:
    if as_json:
        return value.decode("utf-8", errors="replace")
    try:
        return format_alert(Alert.model_validate_json(value)) + "\n"
    except ValidationError as exc:
        return f"(unreadable alert record: {exc.error_count()} errors)"


async def _wait_for_partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    # The topic appears when the worker first starts; wait rather than fail.
    while True:
        if topic in await consumer.topics():
            partitions = consumer.partitions_for_topic(topic)
            if partitions:
                return set(partitions)
        await asyncio.sleep(0.5)
