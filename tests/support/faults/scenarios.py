"""The fault scenarios: each runs real workers on a real broker and returns its report.

Scenarios take a bootstrap (a broker the caller owns) or, when the fault is the broker
itself, the resolved Kafka jars to start one of their own. They leave nothing running.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from streams.cli.kafka_local import LocalKafka
from streams.cli.replay import send_records
from streams.detect.engine import HitOutcome
from streams.offline import OfflineRun, run_offline
from streams.settings import Settings
from streams.sources.files import FileRecord
from streams.sources.samplefeed import DEFAULT_SURGE, signal_reports
from tests.support.faults.accounting import FaultReport, topic_position, wait_accounted
from tests.support.faults.feed import fault_feed
from tests.support.worker_process import (
    WorkerProcess,
    free_port,
    isolated_settings,
    open_local,
    total,
)

__all__ = ["broker_outage", "clock_trouble", "crash_restart", "rebalance"]


RECEIVED = "watchfloor_records_received_total"
ALERTS = "watchfloor_alerts_emitted_total"
REREADS = "watchfloor_partition_rereads_total"


@dataclass
class Run:
    """One scenario's feed, settings, expected outcome and the workers it started."""

    name: str
    settings: Settings
    workdir: Path
    lines: list[bytes] = field(default_factory=fault_feed)
    workers: list[WorkerProcess] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.expected: OfflineRun = run_offline(self.lines, self.settings)
        self.report = FaultReport(self.name, sent=len(self.lines))

    def start_worker(self, timeout: float = 60.0) -> WorkerProcess:
        log = self.workdir / f"{self.name}-worker-{len(self.workers)}.log"
        # Each worker its own web port: that is where its /metrics are scraped.
        own = self.settings.model_copy(update={"web_port": free_port()})
        worker = WorkerProcess(own, log, cwd=self.workdir)
        self.workers.append(worker)
        worker.wait_for("its /metrics", lambda _: True, timeout)
        return worker

    def send(self, lines: list[bytes] | None = None, rate: float | None = None) -> None:
        lines = self.lines if lines is None else lines
        records = [FileRecord(None, line, f"line {n}") for n, line in enumerate(lines)]
        sent = asyncio.run(send_records(self.settings, records, rate=rate))
        if sent.sent != len(lines):
            raise RuntimeError(f"{self.name}: sent {sent.sent} of {len(lines)} records")

    @contextmanager
    def sending(self, rate: float) -> Iterator[threading.Thread]:
        """The feed sent at ``rate`` records/s in the background while the fault happens."""
        thread = threading.Thread(target=self.send, kwargs={"rate": rate}, daemon=True)
        thread.start()
        yield thread
        thread.join()

    def committed(self) -> int:
        return asyncio.run(topic_position(self.settings, self.settings.topic_raw)).committed

    def wait(self, what: str, done: Callable[[], bool], timeout: float) -> float:
        """Poll ``done`` until it holds; returns the seconds it took."""
        began = time.monotonic()
        while not done():
            if time.monotonic() - began > timeout:
                raise TimeoutError(f"{self.name}: timed out after {timeout:.0f}s waiting {what}")
            time.sleep(0.1)
        return time.monotonic() - began

    def finish(self, timeout: float = 120.0) -> FaultReport:
        """Account once everything is in (or ``timeout`` passed), noting the live workers'
        partition re-reads: each one read again a record Faust lost on its way to an agent."""
        report = asyncio.run(
            wait_accounted(
                self.settings, self.report, self.expected, {self.settings.topic_raw}, timeout
            )
        )
        report.seconds = time.monotonic() - self.started
        rereads = sum(_counter(w, REREADS) for w in self.workers if w.proc.poll() is None)
        if rereads:
            report.notes.append(f"partitions re-read from a lost record: {rereads:.0f}")
        return report

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()


def _counter(worker: WorkerProcess, name: str) -> float:
    try:
        return total(worker.samples(), name)
    except OSError:
        return 0.0


def _received(worker: WorkerProcess) -> float:
    return _counter(worker, RECEIVED)


def crash_restart(
    bootstrap: str,
    workdir: Path,
    *,
    kill_after_alerts: int = 1,
    rate: float = 300.0,
    **overrides: Any,
) -> FaultReport:
    """Fault 1: ``kill -9`` of the only worker mid-stream, then a new one in its place.

    The kill comes right after the worker's first alert, while the feed still flows (it
    is paced at ``rate`` records/s, slow enough that the sample feed's first surge comes
    well before its end): that key's re-alert state, the other keys' baselines and open
    windows are all in flight, and must come back from the changelog for the next alerts
    to match, with the first one not repeated; the new worker reads the rest of the feed.
    """
    settings = isolated_settings(bootstrap, "crash", batch_within=0.1, **overrides)
    name = "crash-restart" + ("-eos" if settings.processing_guarantee == "exactly_once" else "")
    run = Run(name, settings, workdir)
    try:
        first = run.start_worker()
        with run.sending(rate):
            run.wait(
                "for the kill point",
                lambda: total(first.samples(), ALERTS) >= kill_after_alerts,
                120,
            )
            first.kill()
            killed = time.monotonic()
            committed = run.committed()
            second = run.start_worker()
            run.wait("for the new worker to resume", lambda: _received(second) > 0, 120)
            run.report.recovery_seconds = time.monotonic() - killed
        run.report.notes.append(
            f"killed after {kill_after_alerts} alert(s), {committed} of {len(run.lines)} "
            "raw records committed"
        )
        return run.finish()
    finally:
        run.stop()


def broker_outage(libs: Path, workdir: Path, *, outage: float = 20.0) -> FaultReport:
    """Fault 2: the broker stopped for ``outage`` seconds mid-stream, then started again.

    The worker is not restarted: it must reconnect by itself. The broker is the project's
    local one on free ports, so stopping it disturbs nobody else. The feed's first half
    goes before the outage and the rest after, so the worker has work on both sides.
    """
    home = workdir / "outage-kafka"
    (home / "kafka").mkdir(parents=True, exist_ok=True)
    if not (home / "kafka" / "libs").exists():
        (home / "kafka" / "libs").symlink_to(libs)
    kafka = LocalKafka(
        Settings(home=home, kafka_port=free_port(), kafka_controller_port=free_port())
    )
    kafka.up(timeout=120)
    settings = isolated_settings(kafka.bootstrap, "outage", batch_within=0.1)
    run = Run("broker-outage", settings, workdir)
    try:
        worker = run.start_worker()
        half = len(run.lines) // 2
        run.send(run.lines[:half])
        run.wait("for mid-stream", lambda: _received(worker) >= len(run.lines) * 0.3, 120)
        kafka.down()
        seen = _received(worker)
        time.sleep(outage)
        worker.check_alive()
        samples = worker.samples()
        down = total(samples, "watchfloor_kafka_reachable") == 0
        board = _board_answers(worker.settings.web_port)
        restarted = time.monotonic()
        kafka.up(timeout=120)
        run.send(run.lines[half:])
        run.wait("for processing to resume", lambda: _received(worker) > seen, 180)
        run.report.recovery_seconds = time.monotonic() - restarted
        report = run.finish(timeout=180)
        outages = total(worker.samples(), "watchfloor_kafka_outages_total")
        report.notes.append(
            f"broker down {outage:.0f}s; reachable gauge 0 during it: {down}; "
            f"outages counted: {outages:.0f}; board during it: {board}"
        )
        if not down or outages < 1:
            report.unexpected.append("the outage did not show in the metrics")
        if not board.startswith("up"):
            report.unexpected.append(f"the board did not answer during the outage: {board}")
        return report
    finally:
        run.stop()
        kafka.down()


def _board_answers(port: int) -> str:
    """Whether the worker's board page and alerts API answer: "up, N alerts" or why not."""
    base = f"http://127.0.0.1:{port}"
    try:
        with open_local(f"{base}/board/", timeout=5) as page:
            page.read()
        with open_local(f"{base}/v1/alerts", timeout=5) as resp:
            alerts = json.loads(resp.read())["alerts"]
    except (OSError, ValueError, KeyError) as exc:
        return f"down ({exc})"
    return f"up, {len(alerts)} alerts"


def rebalance(
    bootstrap: str,
    workdir: Path,
    *,
    partitions: int = 4,
    rate: float = 200.0,
    workers: int = 2,
    **overrides: Any,
) -> FaultReport:
    """Fault 3: ``workers`` workers, one more joins mid-stream, then one leaves; same
    alerts as one worker. With ``processing_guarantee="exactly_once"`` every alert must
    be there once, read committed, across both rebalances.

    The feed is paced so that both rebalances happen while records are flowing.
    """
    # Which of two near-duplicate reports counts depends on which is read first, and the
    # order in which several raw partitions are read varies from run to run, fault or
    # not (docs/reliability.md); without it the alerts must match exactly.
    overrides.setdefault("near_duplicate_horizon", 0)
    settings = isolated_settings(
        bootstrap, "rebal", batch_within=0.1, partitions=partitions, **overrides
    )
    name = "rebalance" + ("-eos" if settings.processing_guarantee == "exactly_once" else "")
    run = Run(name, settings, workdir)
    n = len(run.lines)
    try:
        for _ in range(workers):
            run.start_worker()
        with run.sending(rate):
            run.wait("for a quarter of the feed", lambda: run.committed() >= n // 4, 120)
            run.start_worker()
            run.wait("for half of the feed", lambda: run.committed() >= n // 2, 120)
            before = run.committed()
            left = time.monotonic()
            run.workers[0].stop()  # SIGTERM: it leaves the group and hands its partitions over
            run.wait(
                "for progress after it left",
                lambda: run.committed() > before or before == n,
                120,
            )
            run.report.recovery_seconds = time.monotonic() - left
        run.report.notes.append(
            f"{partitions} partitions; workers {workers} -> {workers + 1} -> {workers}"
        )
        return run.finish()
    finally:
        run.stop()


def clock_records(lines: list[bytes]) -> list[bytes]:
    """``lines`` with mis-dated records spread through: a week late, from 1970, from 2099.

    The late ones are real reports of a signal, so they reach detection and must show as
    late there; the future ones must be dead-lettered before they move any clock.
    """
    stale = signal_reports(
        31, "belarus-men-crossing-eu", "Eastern Europe",
        [DEFAULT_SURGE.start - timedelta(days=7, hours=h) for h in range(10)],
    )  # fmt: skip
    epoch = signal_reports(
        32, "union-state-joint-units", "Baltics", [datetime(1970, 1, 2, tzinfo=UTC)]
    )
    ahead = [
        {**report, "id": f"ahead-{n}", "published_at": when}
        for n, (report, when) in enumerate(
            zip(
                signal_reports(
                    33, "belarus-service-law-change", "Baltics", [DEFAULT_SURGE.start] * 2
                ),
                ["2099-01-01T00:00:00Z", (datetime.now(UTC) + timedelta(days=3)).isoformat()],
                strict=True,
            )
        )
    ]
    out = list(lines)
    # After the surge's first alert has been decided: the stale reports are a week late.
    at = int(len(out) * 0.8)
    for n, record in enumerate([*stale, *epoch, *ahead]):
        out.insert(at + 7 * n, orjson.dumps(record))
    return out


def clock_trouble(bootstrap: str, workdir: Path) -> FaultReport:
    """Fault 6: reports from long ago and from the future, among the normal feed.

    The rule (docs/detection.md): future beyond ``WATCHFLOOR_MAX_EVENT_AHEAD`` is
    dead-lettered as ``future_timestamp``; the past is accepted and, once its windows have
    closed, counted as late. The report must account for every one, as the offline run does.
    """
    settings = isolated_settings(bootstrap, "clock", batch_within=0.1)
    run = Run("clock-trouble", settings, workdir, lines=clock_records(fault_feed()))
    try:
        worker = run.start_worker()
        run.send()
        report = run.finish()
        late = total(worker.samples(), "watchfloor_late_events_total")
        want = run.expected.outcomes[HitOutcome.LATE]
        future = run.expected.deadlettered["future_timestamp"]
        report.notes.append(
            f"late reports counted {late:.0f} of {want}; future dead-lettered {future}"
        )
        if late != want or want == 0 or future < 3:
            report.unexpected.append(f"late {late:.0f} != {want} or future {future} < 3")
        return report
    finally:
        run.stop()
