"""``watchfloor deadletters``: what was refused and why, and sending it again after a fix.

Reads the dead-letter topic from its start to its current end with no consumer group.
``--resend`` produces the chosen dead letters' original bytes, with their original keys,
to the raw topic again, so their items keep their ids; each carries the header
``watchfloor-resent-from`` (``<partition>:<offset>`` of its dead letter). A dead letter
whose original was truncated cannot be sent again and is skipped.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from streams.consumers import group_less_consumer, stop_consumer
from streams.kafka_security import client_security
from streams.models import RESENT_HEADER, DeadLetter
from streams.settings import Settings

__all__ = ["Letter", "Resent", "read_letters", "resend", "select", "summary"]


@dataclass(frozen=True)
class Letter:
    """A dead letter and where it sits on the dead-letter topic."""

    partition: int
    offset: int
    letter: DeadLetter

    @property
    def at(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def item_id(self) -> str | None:
        """The original's ``id``, when it is a JSON object that has one."""
        try:
            value = json.loads(base64.b64decode(self.letter.original_b64))
        except ValueError:
            return None
        return str(value["id"]) if isinstance(value, dict) and "id" in value else None


@dataclass(frozen=True)
class Resent:
    sent: int
    truncated: int
    """Chosen but skipped: only the start of their original was kept."""


def select(
    letters: Iterable[Letter],
    *,
    reason: str | None = None,
    source: str | None = None,
    at: set[str] | None = None,
) -> list[Letter]:
    """The dead letters of ``reason`` and ``source``, or those at the ``at`` positions."""
    return [
        x
        for x in letters
        if (reason is None or x.letter.reason == reason)
        and (source is None or x.letter.source == source)
        and (at is None or x.at in at)
    ]


def summary(letters: Iterable[Letter]) -> Counter[tuple[str, str]]:
    """How many dead letters there are per (reason, source)."""
    return Counter((x.letter.reason, x.letter.source) for x in letters)


async def read_letters(settings: Settings) -> list[Letter]:
    """Every dead letter on the topic now, oldest first per partition. Records that are not
    dead letters (another writer) are left out."""
    consumer = group_less_consumer(settings)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, **client_security(settings))
    await admin.start()
    try:
        described = await admin.describe_topics([settings.topic_deadletter])
    finally:
        await admin.close()
    parts = [p["partition"] for d in described if not d["error_code"] for p in d["partitions"]]
    await consumer.start()
    letters: list[Letter] = []
    try:
        tps = [TopicPartition(settings.topic_deadletter, p) for p in sorted(parts)]
        if not tps:
            return letters
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        left = {tp for tp in tps if ends[tp] > 0}
        while left:
            batch = await consumer.getmany(*left, timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    try:
                        letter = DeadLetter.model_validate_json(record.value or b"")
                    except ValidationError:
                        continue
                    letters.append(Letter(tp.partition, record.offset, letter))
                if records and records[-1].offset + 1 >= ends[tp]:
                    left.discard(tp)
    finally:
        await stop_consumer(consumer)
    return letters


async def resend(settings: Settings, letters: Iterable[Letter]) -> Resent:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        acks="all",
        enable_idempotence=True,
        **client_security(settings),
    )
    await producer.start()
    sent = truncated = 0
    try:
        pending = []
        for x in letters:
            if x.letter.truncated:
                truncated += 1
                continue
            key = base64.b64decode(x.letter.key_b64) if x.letter.key_b64 else None
            pending.append(
                await producer.send(
                    settings.topic_raw,
                    base64.b64decode(x.letter.original_b64),
                    key=key,
                    headers=[(RESENT_HEADER, x.at.encode())],
                )
            )
            sent += 1
        await asyncio.gather(*pending)  # acknowledged before we say they were sent
    finally:
        await producer.stop()
    return Resent(sent, truncated)
