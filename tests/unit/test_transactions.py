"""The hand-over of transactional partitions at a rebalance, against stand-ins for Faust's
consumer and producer (the real ones are exercised by the rebalance-eos fault scenario)."""

from __future__ import annotations

import asyncio
from typing import Any

from streams.pipeline.transactions import HandOver


class Producer:
    def __init__(self, live: set[str]) -> None:
        self._transaction_producers = dict.fromkeys(live)
        self.committed: list[dict[str, Any]] = []

    async def commit_transactions(self, tid_to_offsets: dict[str, Any], *args: Any) -> None:
        self.committed.append(dict(tid_to_offsets))


class Consumer:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    async def on_partitions_revoked(self, tps: Any) -> None:
        self.events.append("faust forgets")

    async def maybe_wait_for_commit_to_finish(self) -> None:
        pass

    async def force_commit(self) -> bool:
        self.events.append("commit")
        return True


def hand_over(events: list[str], live: set[str]) -> tuple[HandOver, Consumer, Producer]:
    async def flush() -> None:
        events.append("flush")

    app = type("App", (), {})()
    producer, consumer = Producer(live), Consumer(events)
    app.producer = producer
    handing = HandOver(app, asyncio.Lock(), flush)
    handing.install(consumer, producer)
    return handing, consumer, producer


async def test_a_revocation_writes_and_commits_before_faust_forgets_then_commits_wait() -> None:
    events: list[str] = []
    handing, consumer, producer = hand_over(events, {"t-0", "t-1"})
    await consumer.on_partitions_revoked(set())
    assert events == ["flush", "commit", "faust forgets"]
    # Until the new assignment, a timer commit is skipped: a partition given away may
    # already be its new owner's.
    await producer.commit_transactions({"t-0": 5})
    assert producer.committed == []
    handing.assigned({0}, lambda p: f"t-{p}")
    await producer.commit_transactions({"t-0": 5, "t-9": 7})  # t-9: no live producer
    assert producer.committed == [{"t-0": 5}]
    assert handing.owns(0) and not handing.owns(1)


async def test_a_batch_waits_while_a_rebalance_is_under_way() -> None:
    events: list[str] = []
    handing, consumer, _ = hand_over(events, {"t-0"})
    await consumer.on_partitions_revoked(set())

    async def batch() -> None:
        async with handing.batch():
            events.append("batch")

    waiting = asyncio.ensure_future(batch())
    await asyncio.sleep(0.05)
    assert "batch" not in events
    handing.assigned({0}, lambda p: f"t-{p}")
    await asyncio.wait_for(waiting, 1)
    assert events[-1] == "batch"


async def test_a_revocation_waits_for_the_batch_in_flight() -> None:
    events: list[str] = []
    handing, consumer, _ = hand_over(events, {"t-0"})
    release = asyncio.Event()

    async def batch() -> None:
        async with handing.batch():
            events.append("batch starts")
            await release.wait()
            events.append("batch ends")

    running = asyncio.ensure_future(batch())
    await asyncio.sleep(0.01)
    revoking = asyncio.ensure_future(consumer.on_partitions_revoked(set()))
    await asyncio.sleep(0.05)
    assert events == ["batch starts"]
    release.set()
    await asyncio.wait_for(asyncio.gather(running, revoking), 1)
    assert events == ["batch starts", "batch ends", "flush", "commit", "faust forgets"]
