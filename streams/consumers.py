"""The group-less consumers of commands, the board and the watchlist feed: made and
stopped the same way everywhere."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer

from streams.kafka_security import client_security
from streams.settings import Settings

__all__ = ["group_less_consumer", "stop_consumer"]


def group_less_consumer(settings: Settings, *topics: str, **options: Any) -> AIOKafkaConsumer:
    """A consumer in no group, committing nothing: it reads every partition it subscribes
    to (or is assigned) and never takes one from a consumer group's member."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.bootstrap,
        enable_auto_commit=False,
        **options,
        **client_security(settings),
    )


async def stop_consumer(consumer: AIOKafkaConsumer) -> None:
    """``consumer.stop()``. A group-less aiokafka consumer stopped soon after it started
    can raise ``CancelledError`` from a helper task of its own that never ran; that one is
    not ours to pass on, a cancellation of the caller is."""
    try:
        await consumer.stop()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
