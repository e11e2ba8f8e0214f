"""Fault 4: one node of a three-node KRaft cluster SIGKILLed while records flow.

Every topic has three replicas and the cluster asks two of them for each ``acks=all``
write, so losing one node must lose nothing: not a raw record the producer was told is
stored, not a signal hit, not an alert, not a committed offset or a table update.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaError

from streams.cli.kafka_local import _admin_request
from tests.support.faults.accounting import FaultReport
from tests.support.faults.scenarios import Run, _received
from tests.support.kafka_cluster import LocalCluster, PartitionState
from tests.support.worker_process import isolated_settings

__all__ = ["cluster_failover"]

NODES = 3
PARTITIONS = 3


def cluster_failover(
    libs: Path,
    workdir: Path,
    *,
    workers: int = 2,
    kill_at: float = 0.4,
    rate: float = 250.0,
    **overrides: Any,
) -> FaultReport:
    """``kill -9`` of the node leading raw partition 0 when ``kill_at`` of the feed is in.

    The feed is paced at ``rate`` records/s, so the producer, the workers' fetches, their
    output and their commits are all in flight when the node goes. Nothing is restarted
    until the pipeline has finished on the two nodes left: the workers must ride out the
    leader and (maybe) coordinator moves by themselves. ``recovery_seconds`` runs from the
    kill to the first commit of a record no worker had received when the node died.
    """
    cluster = LocalCluster(workdir / "cluster", libs, nodes=NODES)
    began = time.monotonic()
    try:
        cluster.up(timeout=180)
        cluster_up = time.monotonic() - began
        settings = isolated_settings(
            cluster.bootstrap,
            "cluster",
            batch_within=0.1,
            partitions=PARTITIONS,
            replication_factor=NODES,
            # Which of two near-duplicates counts depends on which is read first, and a
            # partition stalled by the failover is read late: with syndication on, the
            # alerts would vary with the interleaving of raw partitions, fault or not.
            near_duplicate_horizon=0,
            **overrides,
        )
        eos = settings.processing_guarantee == "exactly_once"
        run = Run("cluster-failover" + ("-eos" if eos else ""), settings, workdir)
        n = len(run.lines)
        try:
            for _ in range(workers):
                run.start_worker()
            with run.sending(rate):
                # By then the group has its partitions and Faust has made its changelog.
                run.wait("for the first records", lambda: _received_by(run) >= n * 0.1, 120)
                victim, roles = _roles(cluster, run)
                run.wait("for the kill point", lambda: _received_by(run) >= n * kill_at, 120)
                seen = _received_by(run)
                cluster.kill(victim)
                killed = time.monotonic()
                run.wait("for processing to move again", lambda: _committed(run) > seen, 180)
                run.report.recovery_seconds = time.monotonic() - killed
            report = run.finish(timeout=180)
            _alive(run)
            report.notes += [
                f"cluster of {NODES} up in {cluster_up:.0f}s; {workers} worker(s); "
                f"feed paced at {rate:.0f}/s; near-duplicate detection off",
                f"node {victim} SIGKILLed after {seen:.0f} of {n} records received; "
                f"it was {', '.join(roles)}",
            ]
            restarted = time.monotonic()
            cluster.start(victim)
            report.notes.append(_rejoined(cluster, run, victim, restarted))
            return report
        finally:
            run.stop()
    finally:
        cluster.down()


def _alive(run: Run) -> None:
    """The workers must ride the fault out; one that died fails the scenario with its log."""
    for worker in run.workers:
        worker.check_alive()


def _received_by(run: Run) -> float:
    _alive(run)
    return sum(_received(worker) for worker in run.workers)


def _committed(run: Run) -> int:
    """The group's committed raw records; -1 while a leader or the coordinator is moving."""
    try:
        return run.committed()
    except KafkaError:
        return -1


def _pipeline_topics(run: Run) -> dict[str, str]:
    """Every topic the pipeline reads or writes, by a short name for the report."""
    s = run.settings
    return {
        "raw": s.topic_raw,
        "signals": s.topic_signals,
        "alerts": s.topic_alerts,
        "deadletter": s.topic_deadletter,
        # Faust names a table's changelog after the app id and the table.
        "changelog": f"{s.app_id}-detect-state-changelog",
    }


def _states(cluster: LocalCluster, run: Run) -> dict[tuple[str, int], PartitionState]:
    """Every pipeline partition by (short topic name, partition)."""
    names = {topic: name for name, topic in _pipeline_topics(run).items()}
    states = cluster.partitions(names)
    return {(names[topic], p): state for (topic, p), state in states.items()}


def _roles(cluster: LocalCluster, run: Run) -> tuple[int, list[str]]:
    """The victim (raw partition 0's leader) and what else it does, for the report.

    A partition with fewer than three replicas (Faust's changelog is the one the worker
    makes itself) could lose data with the node, so it counts as a failure, not a note.
    """
    states = _states(cluster, run)
    victim = states[("raw", 0)].leader
    roles = [f"leader of {name} p{p}" for (name, p), s in states.items() if s.leader == victim]
    coordinator = _admin_request(
        cluster.bootstrap, lambda admin: admin.find_coordinator(run.settings.app_id)
    )
    roles.append("the group coordinator" if coordinator == victim else "not the coordinator")
    run.report.notes.append(
        f"{len(states)} pipeline partitions (changelog included) checked for {NODES} replicas"
    )
    thin = {
        f"{name} p{p}": s.replicas for (name, p), s in states.items() if len(s.replicas) < NODES
    }
    if thin:
        run.report.unexpected.append(f"partitions with fewer than {NODES} replicas: {thin}")
    return victim, roles


def _rejoined(cluster: LocalCluster, run: Run, victim: int, since: float) -> str:
    """How long the restarted node took to be back in sync on every pipeline partition."""

    def behind() -> list[str]:
        states = _states(cluster, run).items()
        return [f"{name} p{p}" for (name, p), s in states if victim not in s.isr]

    try:
        run.wait(f"for node {victim} to catch up", lambda: not behind(), 60)
    except TimeoutError:
        return f"node {victim} restarted but still out of sync on {behind()}"
    return f"node {victim} restarted and back in every ISR {time.monotonic() - since:.1f}s later"
