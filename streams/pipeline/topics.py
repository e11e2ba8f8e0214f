"""Create the pipeline's topics before the worker subscribes, as Kafka Streams expects.

Faust creates only its internal topics (the table changelog). The raw, signals, alerts and
dead-letter topics, and the topics agents declare their own (``AgentContext.own_topic``),
are created here with the configured partitions and replication, and left alone when they
exist: on a real cluster their owners may have tuned them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from streams.kafka_security import client_security
from streams.settings import Settings

__all__ = ["ensure_topics", "pipeline_topics"]

log = logging.getLogger(__name__)


def pipeline_topics(settings: Settings) -> list[str]:
    return [
        settings.topic_raw,
        settings.topic_signals,
        settings.topic_alerts,
        settings.topic_deadletter,
        settings.topic_watchlist,
    ]


def _new_topic(settings: Settings, topic: str) -> NewTopic:
    if topic == settings.topic_watchlist:
        # One key, its newest value kept: a log of every version would only grow.
        return NewTopic(
            topic, 1, settings.replication_factor, topic_configs={"cleanup.policy": "compact"}
        )
    return NewTopic(topic, settings.partitions, settings.replication_factor)


async def ensure_topics(settings: Settings, owned: Iterable[str] = ()) -> list[str]:
    """Create the missing pipeline topics and the topics agents ``owned``; return the
    names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, **client_security(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = dict.fromkeys([*pipeline_topics(settings), *owned])
        missing = [t for t in wanted if t not in existing]
        if missing:
            # Another worker may win the race; the topic is there either way.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([_new_topic(settings, t) for t in missing])
            log.info("created topics", extra={"topics": missing})
        return missing
    finally:
        await admin.close()
