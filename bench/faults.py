"""Run every fault scenario on real brokers and print what each lost, repeated and took.

    python bench/faults.py                 # all eleven runs, about twenty minutes
    python bench/faults.py --only crash-restart --only rebalance

Each scenario starts real workers (``python -m streams worker``) against a broker of this
command's own (a local KRaft broker on free ports; the three-broker cluster and the
outage scenario start theirs), replays the fault feed (three surges, five alerts, six bad
records; ``tests/support/faults/feed.py``), injects its fault, and accounts through Kafka:
the group's committed offsets on the raw topic, distinct raw records in the dead-letter
topic, and alert ids against an offline run of the same feed. Nothing is left running.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as a script: tests.support lives in the checkout, not the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import tempfile
import time
from collections.abc import Callable

from streams.cli.kafka_local import LocalKafka
from streams.settings import Settings
from tests.support.faults import scenarios
from tests.support.faults.accounting import FaultReport
from tests.support.faults.clients import slow_clients
from tests.support.faults.cluster import cluster_failover
from tests.support.faults.hostile import hostile_input
from tests.support.faults.keys import many_keys
from tests.support.worker_process import free_port

REPO = Path(__file__).resolve().parents[1]

Scenario = Callable[[str, Path, Path], FaultReport]
"""(bootstrap of the shared broker, Kafka jars, work folder) -> report."""

SCENARIOS: dict[str, Scenario] = {
    "crash-restart": lambda boot, _libs, work: scenarios.crash_restart(boot, work),
    "crash-restart-eos": lambda boot, _libs, work: scenarios.crash_restart(
        boot, work, processing_guarantee="exactly_once"
    ),
    "broker-outage": lambda _boot, libs, work: scenarios.broker_outage(libs, work),
    "rebalance": lambda boot, _libs, work: scenarios.rebalance(boot, work),
    "rebalance-eos": lambda boot, _libs, work: scenarios.rebalance(
        boot, work, processing_guarantee="exactly_once"
    ),
    "cluster-failover": lambda _boot, libs, work: cluster_failover(libs, work),
    "cluster-failover-eos": lambda _boot, libs, work: cluster_failover(
        libs, work, processing_guarantee="exactly_once"
    ),
    "hostile-input": lambda boot, _libs, work: hostile_input(boot, work),
    "clock-trouble": lambda boot, _libs, work: scenarios.clock_trouble(boot, work),
    "slow-clients": lambda boot, _libs, work: slow_clients(boot, work),
    "many-keys": lambda boot, _libs, work: many_keys(boot, work),
}

COLUMNS = (
    "scenario", "sent", "processed", "dead-lettered", "alerts want", "alerts got",
    "duplicate ids", "recovery s", "total s", "ok",
)  # fmt: skip


def row(report: FaultReport) -> tuple[str, ...]:
    recovery = "-" if report.recovery_seconds is None else f"{report.recovery_seconds:.1f}"
    return (
        report.scenario,
        f"{report.sent:,}",
        f"{report.processed:,}",
        f"{report.deadlettered}/{report.deadletter_expected}",
        str(report.alerts_expected),
        str(report.alerts_got),
        str(report.duplicate_alerts),
        recovery,
        f"{report.seconds:.1f}",
        "yes" if report.ok else "NO",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", action="append", choices=sorted(SCENARIOS), help="run just these (repeatable)"
    )
    args = parser.parse_args(argv)
    names = args.only or list(SCENARIOS)
    libs = LocalKafka(Settings(home=REPO / ".watchfloor")).ensure_jars()
    with tempfile.TemporaryDirectory(prefix="wf-faults-") as tmp:
        root = Path(tmp)
        (root / "kafka").mkdir()
        (root / "kafka" / "libs").symlink_to(libs)
        kafka = LocalKafka(
            Settings(home=root, kafka_port=free_port(), kafka_controller_port=free_port())
        )
        kafka.up(timeout=120)
        reports = []
        try:
            for n, name in enumerate(names, 1):
                print(f"[{n}/{len(names)}] {name} ...", file=sys.stderr, flush=True)
                began = time.monotonic()
                work = root / name
                work.mkdir()
                report = SCENARIOS[name](kafka.bootstrap, libs, work)
                reports.append(report)
                took = time.monotonic() - began
                print(f"[{n}/{len(names)}] {name}: {row(report)[-1]} in {took:.0f}s",
                      file=sys.stderr, flush=True)  # fmt: skip
                for note in report.notes:
                    print(f"    {note}", file=sys.stderr, flush=True)
        finally:
            kafka.down()
    table = [COLUMNS, *(row(r) for r in reports)]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    for line in table:
        print("  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)))
    for report in reports:
        if report.missing or report.unexpected:
            print(f"{report.scenario}: missing {report.missing} unexpected {report.unexpected}")
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
