"""A real Kafka broker for the whole test session, and a real worker process per test.

The broker is the project's own local KRaft broker on free ports in a throw-away home,
started once and stopped at the end; set WATCHFLOOR_KAFKA_BOOTSTRAP to use an existing
cluster instead. Every test gets topic names and a consumer group of its own.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.cli.kafka_local import LocalKafka
from streams.settings import Settings
from tests.support.faults.accounting import read_records
from tests.support.worker_process import (
    Samples,
    WorkerError,
    WorkerProcess,
    free_port,
    isolated_settings,
)

REPO = Path(__file__).resolve().parents[2]


def shared_kafka_libs() -> Path:
    """Kafka's jars, shared with the developer's local broker: resolved once per checkout."""
    return LocalKafka(Settings(home=REPO / ".watchfloor")).ensure_jars()


@pytest.fixture(scope="session")
def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    existing = os.environ.get("WATCHFLOOR_KAFKA_BOOTSTRAP")
    if existing:
        yield existing
        return
    # Data and logs live in a throw-away home.
    home = tmp_path_factory.mktemp("kafka-home")
    (home / "kafka").mkdir()
    (home / "kafka" / "libs").symlink_to(shared_kafka_libs())
    kafka = LocalKafka(
        Settings(home=home, kafka_port=free_port(), kafka_controller_port=free_port())
    )
    status = kafka.up(timeout=120)
    try:
        yield status.bootstrap
    finally:
        kafka.down()


def fresh_settings(bootstrap: str) -> Settings:
    """Settings with topics and a consumer group no other test uses."""
    return isolated_settings(bootstrap, "test", batch_within=0.1)


@pytest.fixture
def settings(bootstrap: str) -> Settings:
    return fresh_settings(bootstrap)


def as_dict(samples: Samples) -> dict[str, float]:
    """Sample name with its labels → value, e.g. ``x_total{reason="invalid_json"}``."""
    out = {}
    for name, labels, value in samples:
        shown = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        out[f"{name}{{{shown}}}" if shown else name] = value
    return out


class Worker(WorkerProcess):
    """A worker process whose waits fail the test (with the log tail) instead of raising."""

    def wait_until(
        self, check: str, predicate: Callable[[dict[str, float]], bool], timeout: float = 90.0
    ) -> dict[str, float]:
        try:
            samples = self.wait_for(check, lambda s: predicate(as_dict(s)), timeout, poll=0.5)
        except WorkerError as exc:
            pytest.fail(str(exc))
        return as_dict(samples)


@pytest.fixture
def worker_factory(tmp_path: Path) -> Iterator[object]:
    started: list[Worker] = []

    def start(settings: Settings) -> Worker:
        worker = Worker(settings, tmp_path / f"worker-{len(started)}.log", cwd=tmp_path)
        started.append(worker)
        worker.wait_until("the worker's /metrics", lambda m: True, timeout=60)
        return worker

    yield start
    for worker in started:
        worker.stop()


def read_topic(
    settings: Settings, topic: str, timeout: float = 15.0
) -> list[tuple[bytes | None, bytes]]:
    """Every record of ``topic`` from the beginning, through a plain Kafka client."""
    return asyncio.run(read_records(settings, topic, timeout))


def wait_for(what: str, check: Callable[[], Any], timeout: float = 60.0, poll: float = 0.5) -> Any:
    """Poll ``check`` until it gives something true and return that; fail the test with
    ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(poll)
    return found
