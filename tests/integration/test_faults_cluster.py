"""A node of a three-node cluster killed mid-stream: no record lost, every alert out.

Runs ``tests/support/faults/cluster.py``'s scenario on a cluster of its own (slow: three JVMs),
so it is opt-in with ``pytest -m cluster``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import shared_kafka_libs
from tests.integration.test_faults import assert_whole
from tests.support.faults.cluster import cluster_failover

pytestmark = [pytest.mark.cluster, pytest.mark.integration]


def test_a_node_killed_mid_stream_loses_no_record_and_no_alert(tmp_path: Path) -> None:
    report = cluster_failover(shared_kafka_libs(), tmp_path)
    assert_whole(report)
    # At least once, as for a killed worker: an alert whose send was retried against the
    # new leader may be there twice (same id, same bytes), never missing.
    assert report.duplicate_alerts <= 1, report


def test_a_node_killed_mid_stream_with_exactly_once_gives_every_alert_once(
    tmp_path: Path,
) -> None:
    report = cluster_failover(shared_kafka_libs(), tmp_path, processing_guarantee="exactly_once")
    assert_whole(report)
    # Read committed (the cluster is gone by now, so kcat cannot be the witness here).
    assert report.duplicate_alerts == 0, report
