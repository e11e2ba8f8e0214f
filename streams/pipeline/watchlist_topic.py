"""Watchlists changed while the service runs, through a compacted Kafka topic.

``watchfloor watchlist PATH --push`` validates a watchlist and writes its text to the
watchlist topic (``WATCHFLOOR_TOPIC_WATCHLIST``, compacted, one partition, one key), so
the topic keeps the newest. A worker starts with the newest valid one there (else its
``WATCHFLOOR_WATCHLIST`` file), and a ``WatchlistFeed`` then hands every newer valid one
to whoever takes it: ingest swaps its matcher between two chunks of a batch, detection
its configuration between two batches, and every hit and alert names the version that
produced it. A watchlist that does not validate is refused with
its error in the log and the one in force stays.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from mode import Service

from streams.consumers import group_less_consumer, stop_consumer
from streams.kafka_security import client_security
from streams.settings import Settings
from streams.signals.watchlist import Watchlist, WatchlistError, parse_watchlist

__all__ = ["KEY", "WatchlistFeed", "push_watchlist", "read_newest"]

log = logging.getLogger(__name__)
KEY = b"watchlist"
Offsets = dict[TopicPartition, int]


def _take(text: bytes, where: str) -> Watchlist | None:
    try:
        return parse_watchlist(text.decode("utf-8", errors="replace"), where)
    except WatchlistError as exc:
        log.error("watchlist refused; the one in force stays", extra={"error": str(exc)})
        return None


async def read_newest(settings: Settings) -> tuple[Watchlist | None, Offsets]:
    """The newest valid watchlist on the topic (None if there is none), and where the topic
    ends: a feed started there sees only what comes after."""
    tp = TopicPartition(settings.topic_watchlist, 0)
    consumer = group_less_consumer(settings)
    await consumer.start()
    newest: Watchlist | None = None
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        while end and await consumer.position(tp) < end:
            for record in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
                found = _take(record.value or b"", f"{tp.topic}@{record.offset}")
                newest = found or newest
    finally:
        await stop_consumer(consumer)
    return newest, {tp: end}


async def push_watchlist(settings: Settings, text: str) -> int:
    """Write a (validated) watchlist's text to the topic; returns its offset."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        acks="all",
        enable_idempotence=True,
        **client_security(settings),
    )
    await producer.start()
    try:
        sent = await producer.send_and_wait(settings.topic_watchlist, text.encode(), key=KEY)
    finally:
        await producer.stop()
    return int(sent.offset)


class WatchlistFeed(Service):
    """Hands each new valid watchlist after ``start`` (offsets from ``read_newest``) to
    the callbacks registered with ``subscribe``, in the event loop's thread."""

    def __init__(self, settings: Settings, version: str, start: Offsets, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.version = version
        self._start = start
        self._takers: list[Callable[[Watchlist], None]] = []

    def subscribe(self, taker: Callable[[Watchlist], None]) -> None:
        self._takers.append(taker)

    @Service.task
    async def _follow(self) -> None:
        consumer = group_less_consumer(self.settings)
        await consumer.start()
        try:
            tps = list(self._start) or [TopicPartition(self.settings.topic_watchlist, 0)]
            consumer.assign(tps)
            for tp in tps:
                consumer.seek(tp, self._start.get(tp, 0))
            while not self.should_stop:
                batch = await consumer.getmany(timeout_ms=1000)
                for tp, records in batch.items():
                    for record in records:
                        found = _take(record.value or b"", f"{tp.topic}@{record.offset}")
                        if found is not None and found.version != self.version:
                            self.apply(found)
        finally:
            await stop_consumer(consumer)

    def apply(self, watchlist: Watchlist) -> None:
        self.version = watchlist.version
        for taker in self._takers:
            taker(watchlist)
        log.info(
            "watchlist taken",
            extra={"version": watchlist.version, "signals": len(watchlist.signals)},
        )
