"""Account for every record of a run through Kafka alone, as an outside client would."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CoordinatorLoadInProgressError, GroupCoordinatorNotAvailableError

from streams.kafka_security import client_security
from streams.offline import OfflineRun
from streams.settings import Settings

__all__ = ["FaultReport", "Topics", "account", "read_records", "read_values"]


async def read_values(settings: Settings, topic: str, timeout: float = 15.0) -> list[bytes]:
    """The values of ``read_records``."""
    return [value for _, value in await read_records(settings, topic, timeout)]


async def read_records(
    settings: Settings, topic: str, timeout: float = 15.0
) -> list[tuple[bytes | None, bytes]]:
    """Every committed record of ``topic`` from the beginning, as (key, value); records of
    aborted transactions are left out, as any read_committed consumer leaves them."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.bootstrap,
        **client_security(settings),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        # Records of aborted transactions are not output; without transactions it is the
        # same as read_uncommitted.
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        out: list[tuple[bytes | None, bytes]] = []
        deadline = time.monotonic() + timeout
        ends: dict[TopicPartition, int] = {}
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            out += [(r.key, r.value or b"") for rs in batch.values() for r in rs]
            tps = consumer.assignment()
            if tps and not ends:
                ends = await consumer.end_offsets(list(tps))
            if ends and all([await consumer.position(tp) >= end for tp, end in ends.items()]):
                return out
        raise TimeoutError(f"could not read {topic} to its end in {timeout}s")
    finally:
        await consumer.stop()


@dataclass(frozen=True)
class Topics:
    """Where a topic stands: its records, and how far the worker group reading it (ingest's
    for the raw topic, Faust's for the others) committed."""

    end: int
    committed: int


async def topic_position(settings: Settings, topic: str) -> Topics:
    security = client_security(settings)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, **security)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, **security)
    await admin.start()
    await consumer.start()
    try:
        (described,) = await admin.describe_topics([topic])
        tps = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
        if not tps:
            raise LookupError(f"topic {topic} has no partitions (does it exist?)")
        ends = await consumer.end_offsets(tps)
        for _ in range(20):
            try:
                group = settings.ingest_group if topic == settings.topic_raw else settings.app_id
                offsets = await admin.list_consumer_group_offsets(group, partitions=tps)
                break
            except (GroupCoordinatorNotAvailableError, CoordinatorLoadInProgressError):
                # A fresh cluster creates its offsets topic on first use.
                await asyncio.sleep(0.5)
        else:
            offsets = {}
        committed = sum(max(meta.offset, 0) for meta in offsets.values())
        return Topics(end=sum(ends.values()), committed=committed)
    finally:
        await consumer.stop()
        await admin.close()


@dataclass
class FaultReport:
    """One scenario's accounting. ``ok`` is what the tests assert and the bench prints."""

    scenario: str
    bootstrap: str = ""
    alerts_topic: str = ""
    """Where the alerts went, for a check with a client of one's own."""
    sent: int = 0
    """Records the scenario sent; the raw topic must hold exactly these."""
    in_topic: int = 0
    committed: int = 0
    """Raw records the worker group committed: read, processed and their output acked."""
    deadlettered: int = 0
    """Distinct raw records in the dead-letter topic."""
    deadletter_expected: int = 0
    deadletter_repeats: int = 0
    alerts_expected: int = 0
    alerts_got: int = 0
    """Distinct alert ids on the alerts topic."""
    duplicate_alerts: int = 0
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    recovery_seconds: float | None = None
    """From the end of the fault to the first record processed after it."""
    seconds: float = 0.0
    """From the first record sent to the last alert out."""
    notes: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    """Measurements a scenario makes besides the accounting (memory, rates), by name."""

    @property
    def processed(self) -> int:
        return self.committed - self.deadlettered

    @property
    def accounted(self) -> bool:
        return (
            self.sent > 0
            and self.in_topic == self.committed == self.sent
            and self.deadlettered == self.deadletter_expected
        )

    @property
    def ok(self) -> bool:
        return (
            self.accounted
            and not self.missing
            and not self.unexpected
            and self.duplicate_alerts == 0
            and self.alerts_got == self.alerts_expected
        )


async def account(
    settings: Settings, report: FaultReport, expected: OfflineRun, sources: set[str]
) -> FaultReport:
    """Fill ``report`` from the topics. ``sources`` are the topics dead letters may cite."""
    report.bootstrap, report.alerts_topic = settings.bootstrap, settings.topic_alerts
    raw = await topic_position(settings, settings.topic_raw)
    report.in_topic = raw.end
    report.committed = raw.committed
    letters = Counter(
        (letter["topic"], letter.get("partition"), letter.get("offset"))
        for letter in map(orjson.loads, await read_values(settings, settings.topic_deadletter))
        if letter.get("topic") in sources
    )
    report.deadlettered = len(letters)
    report.deadletter_repeats = sum(letters.values()) - len(letters)
    report.deadletter_expected = sum(expected.deadlettered.values())
    ids = Counter(
        orjson.loads(value)["alert_id"]
        for value in await read_values(settings, settings.topic_alerts)
    )
    want = {a.alert_id for a in expected.alerts}
    report.alerts_expected = len(want)
    report.alerts_got = len(ids)
    report.duplicate_alerts = sum(ids.values()) - len(ids)
    report.missing = sorted(want - set(ids))
    report.unexpected = sorted(set(ids) - want)
    return report


async def wait_accounted(
    settings: Settings,
    report: FaultReport,
    expected: OfflineRun,
    sources: set[str],
    timeout: float,
) -> FaultReport:
    """Account until every record and alert is in, or ``timeout`` passes; the last stands."""
    deadline = time.monotonic() + timeout
    while True:
        await account(settings, report, expected, sources)
        done = report.accounted and not report.missing
        if done or time.monotonic() > deadline:
            return report
        await asyncio.sleep(1.0)
