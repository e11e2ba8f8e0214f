"""A real Kafka broker for the whole test session, and a real worker process per test.

The broker is the project's own local KRaft broker on free ports in a throw-away home,
started once and stopped at the end; set WATCHFLOOR_KAFKA_BOOTSTRAP to use an existing
cluster instead. Every test gets topic names and a consumer group of its own.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.request import urlopen

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from streams.kafka_local import LocalKafka
from streams.settings import Settings
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    existing = os.environ.get("WATCHFLOOR_KAFKA_BOOTSTRAP")
    if existing:
        yield existing
        return
    # Jars are shared with the developer's local broker so they resolve once per checkout;
    # data and logs live in a throw-away home.
    shared_libs = LocalKafka(Settings(home=REPO / ".watchfloor")).ensure_jars()
    home = tmp_path_factory.mktemp("kafka-home")
    (home / "kafka").mkdir()
    (home / "kafka" / "libs").symlink_to(shared_libs)
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
    run = uuid.uuid4().hex[:8]
    return Settings(
        kafka_bootstrap=bootstrap,
        app_id=f"wf-test-{run}",
        topic_raw=f"t{run}.raw",
        topic_signals=f"t{run}.signals",
        topic_alerts=f"t{run}.alerts",
        topic_deadletter=f"t{run}.deadletter",
        web_port=free_port(),
        batch_within=0.1,
    )


@pytest.fixture
def settings(bootstrap: str) -> Settings:
    return fresh_settings(bootstrap)


class WorkerProcess:
    """``watchfloor worker`` as a child process, with its metrics one call away."""

    def __init__(self, settings: Settings, log: Path) -> None:
        env = {**os.environ, **_env(settings)}
        self.settings = settings
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams", "worker"],
            cwd=REPO,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def metrics(self) -> dict[str, float]:
        """Sample name (with labels) → value, e.g. ``watchfloor_items_ingested_total``."""
        url = f"http://127.0.0.1:{self.settings.web_port}/metrics"
        with urlopen(url, timeout=5) as resp:
            text = resp.read().decode()
        samples = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                samples[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
        return samples

    def wait_until(self, check: str, predicate: object, timeout: float = 90.0) -> dict[str, float]:
        """Poll metrics until ``predicate(metrics)`` holds; fail with the log tail if not."""
        deadline = time.monotonic() + timeout
        last: dict[str, float] = {}
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"worker exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                last = self.metrics()
            except OSError:
                last = {}
            if last and predicate(last):  # type: ignore[operator]
                return last
            time.sleep(0.5)
        pytest.fail(f"timed out waiting for {check}; metrics {last}\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


def _env(settings: Settings) -> dict[str, str]:
    out = {}
    for name, value in settings.model_dump(exclude_none=True).items():
        out[f"WATCHFLOOR_{name.upper()}"] = str(value)
    return out


@pytest.fixture
def worker_factory(tmp_path: Path) -> Iterator[object]:
    started: list[WorkerProcess] = []

    def start(settings: Settings) -> WorkerProcess:
        worker = WorkerProcess(settings, tmp_path / f"worker-{len(started)}.log")
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

    async def read() -> list[tuple[bytes | None, bytes]]:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=settings.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
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
            raise AssertionError(f"could not read {topic} to its end in {timeout}s")
        finally:
            await consumer.stop()

    return asyncio.run(read())
