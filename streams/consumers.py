"""Helpers for the short-lived, group-less consumers of commands and the board."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer

__all__ = ["stop_consumer"]


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
