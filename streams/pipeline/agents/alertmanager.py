"""The ``alertmanager`` agent: every alert posted to Prometheus Alertmanager's API v2.

Reads the alerts topic in its own Faust agent, so detection never waits for it. While
Alertmanager is out of reach the agent retries the batch in hand with back-off and reads
no further; Faust commits an alert's offset only once it is delivered, so a restart
delivers again what was not (Alertmanager merges an alert posted twice: same labels).
Records on the alerts topic come from detection: one that is not an alert is counted and
skipped, and one Alertmanager refuses (4xx) is counted, logged and not retried.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import faust
from pydantic import ValidationError

from streams.alertmanager import AlertmanagerClient, Backoff, DeliveryRefused, to_alertmanager
from streams.models import Alert
from streams.pipeline.agent import AgentContext, batches

__all__ = ["install"]

log = logging.getLogger(__name__)


def install(ctx: AgentContext) -> None:
    settings, metrics = ctx.settings, ctx.metrics
    if not settings.alertmanager_url:
        return
    client = AlertmanagerClient(settings.alertmanager_url)

    @ctx.app.agent(ctx.alerts, name="alertmanager")
    async def deliver(stream: faust.StreamT[bytes]) -> None:
        backoff = Backoff(most=settings.alertmanager_max_backoff)
        try:
            async for events in batches(stream, settings):
                alerts = []
                for event in events:
                    try:
                        alerts.append(Alert.model_validate_json(event.value or b""))
                    except ValidationError:
                        metrics.alertmanager_alerts.labels("invalid").inc()
                if alerts:
                    await _deliver(alerts, backoff)
        finally:
            await client.close()

    async def _deliver(alerts: list[Alert], backoff: Backoff) -> None:
        postable = [
            to_alertmanager(a, settings.alertmanager_resolve_after, settings.board_url)
            for a in alerts
        ]
        while True:
            try:
                await client.post(postable)
            except DeliveryRefused as exc:
                metrics.alertmanager_alerts.labels("refused").inc(len(alerts))
                log.error(
                    "alertmanager refused alerts",
                    extra={"alerts": [a.alert_id for a in alerts], "error": str(exc)},
                )
                return
            except (aiohttp.ClientError, TimeoutError) as exc:
                wait = backoff.failed()
                metrics.alertmanager_failures.inc()
                log.warning(
                    "alertmanager out of reach; retrying",
                    extra={"error": type(exc).__name__, "retry_in": wait, "alerts": len(alerts)},
                )
                await asyncio.sleep(wait)
                continue
            backoff.succeeded()
            metrics.alertmanager_alerts.labels("delivered").inc(len(alerts))
            metrics.alertmanager_lag.set(time.time() - alerts[-1].generated_at.timestamp())
            return
