"""Several Kafka nodes (KRaft, broker and controller each) on loopback, for fault tests.

Each node is a ``LocalKafka`` of its own (ports, data, logs, pid file under one home) whose
properties the cluster extends: a static controller quorum over all nodes, one cluster id
for every ``format``, and replication defaults under which losing one node loses nothing
that was acknowledged with ``acks=all``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaError

from streams.cli.kafka_local import KafkaSetupError, LocalKafka, _admin_request, _cluster_id, _wait
from streams.settings import Settings
from tests.support.worker_process import free_port

__all__ = ["LocalCluster", "PartitionState"]

# Three JVMs share a laptop (or a 2-core CI runner) with the code under test.
NODE_JVM_OPTS = ("-Xms128m", "-Xmx512m", "-XX:+UseG1GC")


@dataclass(frozen=True)
class PartitionState:
    """One partition as the cluster's metadata reports it; ``leader`` is -1 while none leads."""

    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]


class _Node(LocalKafka):
    """One node of a ``LocalCluster``: the cluster supplies its jars, quorum and cluster id."""

    jvm_opts = NODE_JVM_OPTS

    def __init__(
        self, home: Path, ports: tuple[int, int], libs: Path, cluster_id: str, extra: str
    ) -> None:
        broker_port, controller_port = ports
        settings = Settings(
            home=home, kafka_port=broker_port, kafka_controller_port=controller_port
        )
        super().__init__(settings)
        self.libs = libs
        self._cluster_id = cluster_id
        self._extra = extra

    def ensure_jars(self) -> Path:
        # Resolved once by the cluster's creator; never re-resolve (or delete) shared jars.
        return self.libs

    def kill(self) -> None:
        """SIGKILL: no flush, no controlled shutdown, the pid file left behind, as in a crash."""
        pid = self._pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _wait(lambda: not self._is_ours(pid), 10.0)

    def _server_properties(self) -> str:
        # java.util.Properties keeps the last value of a repeated key, so appending overrides
        # the single-broker template without forking it.
        return f"{super()._server_properties()}\n# cluster node\n{self._extra}"

    def _new_cluster_id(self) -> str:
        return self._cluster_id


class LocalCluster:
    """``nodes`` combined broker+controller nodes on 127.0.0.1, node ids 1..nodes.

    Each node lives in ``<home>/node-<id>/kafka``; ports are picked once, when the object
    is made, so a node restarted by ``start`` comes back where clients expect it.
    """

    def __init__(self, home: Path, libs: Path, nodes: int = 3) -> None:
        if nodes < 1:
            raise ValueError("a cluster needs at least one node")
        home = home.resolve()  # these paths end up in files read by processes with their own cwd
        ports = _free_ports(2 * nodes)
        ids = range(1, nodes + 1)
        controller_ports = dict(zip(ids, ports[nodes:], strict=True))
        voters = ",".join(f"{i}@127.0.0.1:{port}" for i, port in controller_ports.items())
        cluster_id = _cluster_id()
        self._nodes = {
            i: _Node(
                home / f"node-{i}",
                (broker_port, controller_ports[i]),
                libs,
                cluster_id,
                _properties({"node.id": i, "controller.quorum.voters": voters, **_durable(nodes)}),
            )
            for i, broker_port in zip(ids, ports[:nodes], strict=True)
        }
        self.bootstrap = ",".join(node.bootstrap for node in self._nodes.values())

    @property
    def node_ids(self) -> list[int]:
        return list(self._nodes)

    def up(self, timeout: float = 120.0) -> None:
        """Starts every node that is not running; returns once all are registered brokers."""
        deadline = time.monotonic() + timeout
        # All at once: no node can answer before a majority of the controller quorum is up.
        errors = _each(self._nodes.values(), lambda node: node.up(timeout))
        if errors:
            self.down()
            raise errors[0]
        self._wait_registered(set(self._nodes), deadline - time.monotonic())

    def kill(self, node_id: int) -> None:
        """The hard crash a fault test wants: SIGKILL, returns once the process is gone."""
        self._nodes[node_id].kill()

    def stop(self, node_id: int, timeout: float = 30.0) -> None:
        """Graceful SIGTERM (controlled shutdown moves its leaderships away first)."""
        self._nodes[node_id].down(timeout)

    def start(self, node_id: int, timeout: float = 60.0) -> None:
        """(Re)starts one node; returns once the cluster lists it as a broker again."""
        deadline = time.monotonic() + timeout
        self._nodes[node_id].up(timeout)
        self._wait_registered({node_id}, deadline - time.monotonic())

    def down(self, timeout: float = 30.0) -> None:
        """Stops every node, in parallel; safe to call twice or on a cluster never started."""
        errors = _each(self._nodes.values(), lambda node: node.down(timeout))
        if errors:
            raise errors[0]

    def running(self, node_id: int) -> bool:
        return self._nodes[node_id].status().running

    def partition(self, topic: str, partition: int) -> PartitionState:
        """Leader, replicas and in-sync replicas of one partition, from cluster metadata."""
        try:
            return self.partitions([topic])[(topic, partition)]
        except KeyError:
            raise KeyError(f"{topic} has no partition {partition}") from None

    def partitions(self, topics: Iterable[str]) -> dict[tuple[str, int], PartitionState]:
        """Every partition of ``topics``, by (topic, partition), in one metadata request."""
        names = list(topics)
        described = _admin_request(self.bootstrap, lambda admin: admin.describe_topics(names))
        return {
            (name, info["partition"]): PartitionState(
                info["leader"], tuple(info["replicas"]), tuple(info["isr"])
            )
            for name in names
            for info in _only(described, "topic", name)["partitions"]
        }

    def _registered(self) -> set[int]:
        try:
            cluster = _admin_request(self.bootstrap, lambda admin: admin.describe_cluster())
        except (KafkaError, OSError):  # no node answers yet: the caller retries
            return set()
        return {broker["node_id"] for broker in cluster["brokers"]}

    def _wait_registered(self, node_ids: set[int], timeout: float) -> None:
        if not _wait(lambda: node_ids <= self._registered(), max(timeout, 0.0), step=0.5):
            missing = sorted(node_ids - self._registered())
            tails = "\n".join(f"node {i}:\n{self._nodes[i]._log_tail()}" for i in missing)
            raise KafkaSetupError(
                f"Kafka nodes {missing} did not register with the cluster at {self.bootstrap} "
                f"within {timeout:.0f}s:\n{tails}"
            )


def _durable(nodes: int) -> dict[str, object]:
    """Every write on three replicas, two of which must have it before ``acks=all`` returns."""
    replicas = min(nodes, 3)
    min_isr = max(replicas - 1, 1)
    return {
        "default.replication.factor": replicas,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": replicas,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
        # A replica that missed writes must never become leader and silently drop them.
        "unclean.leader.election.enable": "false",
        "group.initial.rebalance.delay.ms": 0,
    }


def _properties(values: dict[str, object]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


def _free_ports(count: int) -> list[int]:
    """Distinct ports: two quick ``free_port`` calls may hand out the same one."""
    ports: list[int] = []
    while len(ports) < count:
        if (port := free_port()) not in ports:
            ports.append(port)
    return ports


def _only(items: Iterable[dict[str, Any]], key: str, value: object) -> dict[str, Any]:
    found = [item for item in items if item[key] == value]
    if len(found) != 1 or found[0]["error_code"]:
        raise KeyError(f"cluster metadata has no {key} {value!r}")
    return found[0]


def _each(nodes: Iterable[_Node], action: Callable[[_Node], object]) -> list[BaseException]:
    """Runs ``action`` on every node in parallel; the errors, after all have finished."""
    nodes = list(nodes)
    with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
        futures = [pool.submit(action, node) for node in nodes]
    return [error for future in futures if (error := future.exception()) is not None]
