"""Alert ids already on the alerts topic, so a worker taking over keys does not repeat them.

At least once, the detect agent sends a batch's alerts, then writes the state that records
them. A worker killed between the two leaves alerts on the topic that its state does not
know of; its successor restores that state, reads the batch again and would send the same
alerts (same ids) a second time. Before it does, it reads the tail of the alerts
partitions it now owns (each key's alerts go to its signals partition's number) and skips
the ids it finds there. Ids are derived from the alert's content, so an id on the topic is
that very alert. With exactly once the transactions already rule repeats out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import orjson
from aiokafka import TopicPartition

from streams.consumers import group_less_consumer, stop_consumer
from streams.settings import Settings

__all__ = ["TAIL", "sent_alert_ids"]

TAIL = 2_000
"""Alerts read back per partition: far more than one batch can send."""


async def sent_alert_ids(
    settings: Settings, partitions: Iterable[int], tail: int = TAIL, timeout: float = 15.0
) -> set[str]:
    """Ids of the last ``tail`` alerts in each of ``partitions`` of the alerts topic."""
    tps = [TopicPartition(settings.topic_alerts, p) for p in partitions]
    if not tps:
        return set()
    consumer = group_less_consumer(settings)
    await consumer.start()
    try:
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
        for tp in tps:
            consumer.seek(tp, max(starts[tp], ends[tp] - tail))
        ids: set[str] = set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            positions = [await consumer.position(tp) for tp in tps]
            if all(at >= ends[tp] for at, tp in zip(positions, tps, strict=True)):
                return ids
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    ids.add(str(orjson.loads(record.value or b"{}").get("alert_id", "")))
        raise TimeoutError(f"could not read the tail of {settings.topic_alerts}")
    finally:
        await stop_consumer(consumer)
