"""A probe of the Kafka cluster, so dashboards show an outage as it happens.

During an outage Faust's clients retry quietly and the worker resumes by itself when the
brokers return; without a probe an operator would see only that counters stopped moving.
"""

from __future__ import annotations

import asyncio
import logging

import faust
from aiokafka.admin import AIOKafkaAdminClient

from streams.kafka_security import client_security
from streams.pipeline.metrics import Metrics
from streams.settings import Settings

__all__ = ["add_kafka_probe"]

log = logging.getLogger(__name__)


def add_kafka_probe(app: faust.App, settings: Settings, metrics: Metrics) -> None:
    interval = settings.kafka_probe_interval
    admin: AIOKafkaAdminClient | None = None
    reachable: bool | None = None

    async def answered() -> bool:
        nonlocal admin
        try:
            if admin is None:
                admin = AIOKafkaAdminClient(
                    bootstrap_servers=settings.bootstrap,
                    request_timeout_ms=int(interval * 1000),
                    **client_security(settings),
                )
                await asyncio.wait_for(admin.start(), interval)
            await asyncio.wait_for(admin.describe_cluster(), interval)
            return True
        except Exception:  # any failure to answer is what the probe reports, not a bug
            if admin is not None:
                stale, admin = admin, None
                await asyncio.shield(stale.close())
            return False

    @app.timer(interval=interval)
    async def probe_kafka() -> None:
        nonlocal reachable
        now = await answered()
        metrics.kafka_reachable.set(1 if now else 0)
        if reachable is not False and not now:
            metrics.kafka_outages.inc()
            log.warning("kafka cluster not answering", extra={"bootstrap": settings.bootstrap})
        elif reachable is False and now:
            log.info("kafka cluster answering again")
        reachable = now
