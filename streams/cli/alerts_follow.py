"""Follow the alerts topic and print alerts for people (or as JSON lines for machines)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from pydantic import ValidationError

from streams.consumers import group_less_consumer, stop_consumer
from streams.models import Alert
from streams.settings import Settings

__all__ = ["follow_alerts", "format_alert"]


def format_alert(alert: Alert) -> str:
    start = alert.window_start.strftime("%Y-%m-%d %H:%M")
    same_day = alert.window_end.date() == alert.window_start.date()
    end = alert.window_end.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M")
    late = f", {alert.late_by / 3600:.1f} h late" if alert.late else ""
    lines = [
        f"[{alert.severity.upper()}] {alert.signal_id} | {alert.region}  {start}–{end} UTC",
        f"  burst {alert.burst_id[:12]} {alert.update}: the {alert.scale} window crossed{late}",
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
    # Subscribing without a group reads every partition, including ones added later.
    consumer = group_less_consumer(
        settings,
        settings.topic_alerts,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    try:
        await consumer.start()
    except BaseException:
        await stop_consumer(consumer)  # closes what start opened before it failed
        raise
    shown = 0
    try:
        last = time.monotonic()
        while limit is None or shown < limit:
            batch = await consumer.getmany(timeout_ms=500)
            records = [r for rs in batch.values() for r in rs]
            if not records:
                if idle_exit is not None and time.monotonic() - last > idle_exit:
                    break
                continue
            last = time.monotonic()
            for record in records[: None if limit is None else limit - shown]:
                out.write(_render(record.value or b"", as_json) + "\n")
                out.flush()
                shown += 1
    finally:
        await stop_consumer(consumer)
    return shown


def _render(value: bytes, as_json: bool) -> str:
    if as_json:
        return value.decode("utf-8", errors="replace")
    try:
        return format_alert(Alert.model_validate_json(value)) + "\n"
    except ValidationError as exc:
        return f"(unreadable alert record: {exc.error_count()} errors)"
