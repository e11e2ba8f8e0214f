"""The ``correlation`` agent: compound alerts when several signals alert for one region.

Alerts are keyed by signal and region, so one region's alerts of different signals lie
in different partitions. The first Faust agent re-keys each alert by region onto a topic
of its own; the second reads that topic, so one worker sees all of a region's alerts, and
keeps each region's state in a changelog-backed table that a restart or a rebalance
restores. Both wait for their sends to be acknowledged before Faust may commit the input
offsets, and the table is written after the compound alert is sent: at least once, a
crash repeats a compound alert (same ``compound_id``), never loses one.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import faust
from prometheus_client import Counter
from pydantic import ValidationError

from streams.codec import encode
from streams.models import Alert
from streams.pipeline.agent import AgentContext
from watchfloor_correlation.correlate import Correlator, RegionState
from watchfloor_correlation.settings import CorrelationSettings

__all__ = ["install"]

log = logging.getLogger(__name__)


def install(ctx: AgentContext) -> None:
    conf = CorrelationSettings()
    correlator = Correlator(conf)
    app = ctx.app
    by_region = ctx.own_topic(f"{conf.topic}.by-region")
    compound_alerts = ctx.own_topic(conf.topic)
    table = app.Table(
        "correlation-state",
        # Raw bytes in and out of the changelog, as Watchfloor's own tables.
        key_type=bytes,
        value_type=bytes,
        schema=faust.Schema(
            key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
        ),
        partitions=ctx.settings.partitions,
    )
    read = Counter(
        "watchfloor_correlation_alerts_read",
        "Alerts the correlation agent read, by outcome (taken, invalid).",
        ["outcome"],
        registry=ctx.metrics.registry,
    )
    sent = Counter(
        "watchfloor_correlation_compound_alerts",
        "Compound alerts sent.",
        registry=ctx.metrics.registry,
    )

    @app.agent(ctx.alerts, name="correlation-rekey")
    async def rekey(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            try:
                alert = Alert.model_validate_json(event.value or b"")
            except ValidationError as exc:
                # Written by Watchfloor to its own contract: a record that breaks it is a
                # bug or a foreign writer, and is skipped rather than stalling the agent.
                read.labels("invalid").inc()
                log.warning(
                    "not an alert", extra={"offset": event.message.offset, "error": str(exc)}
                )
                continue
            read.labels("taken").inc()
            await (await by_region.send(key=alert.region.encode(), value=event.value))

    @app.agent(by_region, name="correlation")
    async def correlate(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            alert = Alert.model_validate_json(event.value or b"")
            state = RegionState.loads(table.get(event.key))
            compound = correlator.observe(state, alert, datetime.now(UTC))
            if compound is not None:
                await (await compound_alerts.send(key=event.key, value=encode(compound)))
                sent.inc()
                log.info(
                    "compound alert",
                    extra={"region": compound.region, "signals": compound.signals},
                )
            table[event.key] = state.dumps()
