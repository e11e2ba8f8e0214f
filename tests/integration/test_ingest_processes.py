"""The ingest agent's own processes on the real broker: they share the raw partitions,
end with the worker, and take the worker down when one of them dies."""

from __future__ import annotations

import os
import signal
import time

import pytest

from streams.settings import Settings
from tests.integration.conftest import fresh_settings
from tests.integration.test_pipeline import feed_lines, replay

pytestmark = pytest.mark.integration


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # A child that exited but is not yet reaped by its dead parent is gone too.
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(") ")[1].startswith("Z"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.2)
    return False


def _assigned(m: dict[str, float]) -> bool:
    return m.get("watchfloor_ingest_assignments_total", 0) >= 1


def test_two_ingest_processes_share_the_raw_partitions_and_account_for_every_record(
    bootstrap: str, worker_factory
) -> None:
    settings = Settings(
        **{**fresh_settings(bootstrap).model_dump(), "partitions": 2, "ingest_processes": 2}
    )
    worker = worker_factory(settings)
    worker.wait_until(
        "each process to hold a raw partition",
        lambda m: (
            m.get("watchfloor_ingest_partitions") == 2
            and m.get("watchfloor_ingest_assignments_total", 0) >= 2
        ),
    )
    assert len(worker.ingest_processes()) == 2
    log = worker.log.read_text()
    assert '"partitions":[0]' in log and '"partitions":[1]' in log
    lines = feed_lines()
    replay(settings, lines)
    metrics = worker.wait_until(
        "every record accounted",
        lambda m: m.get("watchfloor_records_received_total") == len(lines),
    )
    deadlettered = sum(
        v for k, v in metrics.items() if k.startswith("watchfloor_items_deadlettered_total")
    )
    assert metrics["watchfloor_items_ingested_total"] + deadlettered == len(lines)


def test_the_ingest_process_ends_when_the_worker_is_killed(
    settings: Settings, worker_factory
) -> None:
    worker = worker_factory(settings)
    worker.wait_until("ingest to hold the raw partition", _assigned)
    (child,) = worker.ingest_processes()
    worker.proc.send_signal(signal.SIGKILL)  # the worker alone: its process must not linger
    worker.proc.wait()
    assert _gone(child, within=20), "the ingest process outlived its worker"


def test_the_worker_stops_when_its_ingest_process_dies(settings: Settings, worker_factory) -> None:
    worker = worker_factory(settings)
    worker.wait_until("ingest to hold the raw partition", _assigned)
    (child,) = worker.ingest_processes()
    os.kill(child, signal.SIGKILL)
    worker.proc.wait(timeout=60)
    assert worker.proc.returncode != 0
    assert "an ingest process ended; stopping the worker" in worker.tail(200)
