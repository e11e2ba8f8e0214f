"""Three local brokers, one hard crash: nothing acknowledged is lost or written twice.

The producer is idempotent with ``acks=all`` on a topic with three replicas and
``min.insync.replicas=2``. The leader of partition 0 is SIGKILLed while batches are in
flight; the producer retries them against the new leader, which recognises the ones the
dead broker had already replicated by their sequence numbers instead of appending them
again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.cli.kafka_local import _wait
from streams.settings import Settings
from tests.integration.conftest import read_topic, shared_kafka_libs
from tests.support.kafka_cluster import LocalCluster

pytestmark = pytest.mark.cluster

PARTITIONS = 3
RECORDS = 10_000
CHUNK = 250  # records enqueued at once; the crash lands while one chunk is in flight
CRASH_AT = 3_000


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    cluster = LocalCluster(tmp_path / "cluster", shared_kafka_libs())
    try:
        cluster.up(timeout=120)
        yield cluster
    finally:
        cluster.down()


def key(i: int) -> bytes:
    return b"%05d" % i


async def create_topic(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 3)])
    finally:
        await admin.close()


async def produce_through_crash(cluster: LocalCluster, topic: str) -> tuple[set[bytes], int]:
    """Sends RECORDS keyed records, killing partition 0's leader after CRASH_AT of them.

    Returns the keys the cluster acknowledged and the id of the killed node. A send that
    fails is not retried here: a new send would be a new record to the broker, and the test
    is about the producer's own retries.
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=cluster.bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    acked: set[bytes] = set()
    victim = -1
    try:
        for first in range(0, RECORDS, CHUNK):
            if first == CRASH_AT:
                victim = (await asyncio.to_thread(cluster.partition, topic, 0)).leader
            sent = [
                (key(i), await producer.send(topic, b"value-%d" % i, key=key(i)))
                for i in range(first, first + CHUNK)
            ]
            if first == CRASH_AT:
                cluster.kill(victim)  # at once: this chunk is still queued or in flight
            results = await asyncio.gather(*(fut for _, fut in sent), return_exceptions=True)
            acked |= {
                k
                for (k, _), res in zip(sent, results, strict=True)
                if not isinstance(res, BaseException)
            }
    finally:
        await producer.stop()
    return acked, victim


def test_a_leader_crash_mid_produce_loses_and_duplicates_nothing(cluster: LocalCluster) -> None:
    topic = f"crash-{uuid.uuid4().hex[:8]}"
    asyncio.run(create_topic(cluster.bootstrap, topic))

    acked, victim = asyncio.run(produce_through_crash(cluster, topic))

    assert victim in cluster.node_ids and not cluster.running(victim)
    assert len(acked) == RECORDS  # the producer rode out the crash on its own retries
    states = [cluster.partition(topic, p) for p in range(PARTITIONS)]
    assert states[0].leader not in (victim, -1)
    assert all(victim not in state.isr for state in states)
    counts = Counter(k for k, _ in read_topic(Settings(kafka_bootstrap=cluster.bootstrap), topic))
    assert [k for k, n in counts.items() if n > 1] == []
    assert sorted(acked - counts.keys()) == []

    cluster.start(victim)

    def isrs() -> list[tuple[int, ...]]:
        return [cluster.partition(topic, p).isr for p in range(PARTITIONS)]

    rejoined = _wait(lambda: all(len(isr) == 3 for isr in isrs()), timeout=60, step=0.5)
    assert rejoined, f"node {victim} is not back in every ISR: {isrs()}"
