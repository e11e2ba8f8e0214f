"""``watchfloor status``: the broker, the pipeline's topics, each consumer group's lag per
partition, and what the local worker says about itself (its /metrics).

The groups are the worker's: ``<app id>-ingest`` reads the raw topic, ``<app id>`` (Faust)
reads the signals topic (detect) and the alerts topic (the alertmanager agent, when on).
Lag is the partition's end offset minus the group's committed offset: records written
but not yet processed.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.error import URLError
from urllib.request import ProxyHandler, build_opener

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from prometheus_client.parser import text_string_to_metric_families

from streams.consumers import group_less_consumer, stop_consumer
from streams.kafka_security import client_security
from streams.settings import Settings
from streams.signals.watchlist import WatchlistError, load_watchlist

__all__ = ["Status", "collect_status", "format_status"]

_open = build_opener(ProxyHandler({})).open
WORKER_METRICS = {
    "watchfloor_watermark_seconds": "watermark",
    "watchfloor_active_keys": "active_keys",
    "watchfloor_kafka_reachable": "kafka_reachable",
    "watchfloor_ingest_partitions": "ingest_partitions",
}


@dataclass
class GroupLag:
    group: str
    reads: str
    """What the group does: the agent that reads the topics."""
    partitions: dict[str, int] = field(default_factory=dict)
    """``topic[partition]`` → records not processed yet (None: nothing committed)."""

    @property
    def total(self) -> int:
        return sum(self.partitions.values())


@dataclass
class Status:
    bootstrap: str
    broker: str
    """"up (N brokers)" or why not."""
    topics: dict[str, int | None] = field(default_factory=dict)
    """Pipeline topic → partitions (None: missing)."""
    groups: list[GroupLag] = field(default_factory=list)
    watchlist: str = ""
    worker: dict[str, Any] = field(default_factory=dict)
    """The local worker's own figures, or {"up": False} when it does not answer."""

    @property
    def ok(self) -> bool:
        return self.broker.startswith("up") and all(v is not None for v in self.topics.values())

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["groups"] = [{**asdict(g), "total": g.total} for g in self.groups]
        out["ok"] = self.ok
        return out


async def collect_status(settings: Settings) -> Status:
    status = Status(settings.bootstrap, "down")
    try:
        watchlist = load_watchlist(settings.watchlist)
        status.watchlist = f"{watchlist.version} ({len(watchlist.signals)} signals)"
    except WatchlistError as exc:
        status.watchlist = f"invalid: {exc}"
    status.worker = _worker_metrics(settings)
    security = client_security(settings)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, **security)
    try:
        await admin.start()
    except KafkaError as exc:
        status.broker = f"down ({type(exc).__name__})"
        await admin.close()
        return status
    consumer = group_less_consumer(settings)
    try:
        cluster = await admin.describe_cluster()
        status.broker = f"up ({len(cluster['brokers'])} brokers)"
        await consumer.start()
        wanted = [
            settings.topic_raw,
            settings.topic_signals,
            settings.topic_alerts,
            settings.topic_deadletter,
            settings.topic_watchlist,
        ]
        existing = set(await admin.list_topics())
        described = await admin.describe_topics([t for t in wanted if t in existing])
        partitions = {d["topic"]: len(d["partitions"]) for d in described}
        for topic in wanted:
            status.topics[topic] = partitions.get(topic) or None
        detect_topics = [settings.topic_signals, settings.topic_alerts]
        groups = [
            (settings.ingest_group, "ingest", [settings.topic_raw]),
            (settings.app_id, "detect, alertmanager", detect_topics),
        ]
        for group, reads, topics in groups:
            status.groups.append(await _lag(admin, consumer, group, reads, topics, status.topics))
    finally:
        await stop_consumer(consumer)
        await admin.close()
    return status


async def _lag(
    admin: AIOKafkaAdminClient,
    consumer: AIOKafkaConsumer,
    group: str,
    reads: str,
    topics: list[str],
    partitions: dict[str, int | None],
) -> GroupLag:
    lag = GroupLag(group, reads)
    try:
        committed = await admin.list_consumer_group_offsets(group)
    except KafkaError:
        # A new broker has no group coordinator until a group first commits: nothing is.
        committed = {}
    tps = [TopicPartition(t, p) for t in topics for p in range(partitions.get(t) or 0)]
    ends = await consumer.end_offsets(tps) if tps else {}
    for tp in tps:
        if tp in committed:
            done = committed[tp].offset
        elif tp.topic == topics[0]:
            done = 0  # the group's main topic with nothing committed: all of it waits
        else:
            continue  # an optional agent's topic the group does not read
        lag.partitions[f"{tp.topic}[{tp.partition}]"] = max(0, ends[tp] - done)
    return lag


def _worker_metrics(settings: Settings) -> dict[str, Any]:
    host = "127.0.0.1" if settings.web_host in ("0.0.0.0", "::") else settings.web_host
    try:
        with _open(f"http://{host}:{settings.web_port}/metrics", timeout=3) as resp:
            text = resp.read().decode()
    except (URLError, OSError):
        return {"up": False}
    found: dict[str, Any] = {"up": True}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in WORKER_METRICS:
                found[WORKER_METRICS[sample.name]] = sample.value
    return found


def format_status(status: Status) -> str:
    lines = [f"broker    {status.bootstrap}: {status.broker}"]
    for topic, parts in status.topics.items():
        lines.append(f"topic     {topic}: " + (f"{parts} partitions" if parts else "missing"))
    for group in status.groups:
        detail = ", ".join(f"{tp} {n:,}" for tp, n in group.partitions.items()) or "-"
        lines.append(f"group     {group.group} ({group.reads}): lag {group.total:,} [{detail}]")
    lines.append(f"watchlist {status.watchlist}")
    worker = status.worker
    if worker.get("up"):
        mark = worker.get("watermark") or 0
        when = datetime.fromtimestamp(mark, UTC).isoformat() if mark else "none yet"
        lines.append(
            f"worker    up: watermark {when}, active keys {worker.get('active_keys', 0):.0f}, "
            f"Kafka reachable {bool(worker.get('kafka_reachable'))}"
        )
    else:
        lines.append("worker    not answering on its web port (not running here?)")
    return "\n".join(lines)


def status_command(settings: Settings, as_json: bool) -> tuple[int, str]:
    """The text (or JSON) to print, and the exit code: 0 when the broker is up and every
    pipeline topic exists, else 2."""
    import json

    status = asyncio.run(collect_status(settings))
    text = json.dumps(status.to_json(), indent=2) if as_json else format_status(status)
    return (0 if status.ok else 2), text
