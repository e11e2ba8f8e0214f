"""Faults injected into real workers on a real broker: every record accounted, alerts exact.

Each test runs one scenario of ``tests/support/faults/scenarios.py`` and asserts its report:
the group committed every raw record, the dead-letter topic holds exactly the bad ones,
and the alerts topic holds exactly the alert ids of an offline run of the same feed.
``python bench/faults.py`` runs the same scenarios and prints the reports.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.conftest import shared_kafka_libs
from tests.support.faults import scenarios
from tests.support.faults.accounting import FaultReport

pytestmark = pytest.mark.integration


def kcat_alert_ids(report: FaultReport) -> Counter[str]:
    """The alert ids as kcat (librdkafka) reads them, read committed: an outside client."""
    kcat = shutil.which("kcat")
    if kcat is None:
        pytest.skip("kcat is not installed (Debian package `kcat`)")
    out = subprocess.run(
        [kcat, "-C", "-b", report.bootstrap, "-t", report.alerts_topic, "-e", "-q",
         "-X", "isolation.level=read_committed", "-f", "%s\\n"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    return Counter(json.loads(line)["alert_id"] for line in out.splitlines() if line)


def assert_whole(report: FaultReport) -> None:
    summary = (
        f"{report.scenario}: sent {report.sent}, committed {report.committed}, dead-lettered "
        f"{report.deadlettered}/{report.deadletter_expected}, alerts {report.alerts_got}/"
        f"{report.alerts_expected}, duplicates {report.duplicate_alerts}, missing "
        f"{report.missing}, unexpected {report.unexpected}; {report.notes}"
    )
    assert report.accounted, summary
    assert not report.missing and not report.unexpected, summary
    assert report.alerts_got == report.alerts_expected, summary


def test_kill_9_mid_stream_then_restart_gives_the_alerts_of_a_clean_run(
    bootstrap: str, tmp_path: Path
) -> None:
    report = scenarios.crash_restart(bootstrap, tmp_path)
    assert_whole(report)
    # At least once, a crash between an alert and its state would repeat that alert; the
    # successor reads the alerts already sent and skips them.
    assert report.duplicate_alerts == 0, report


def test_kill_9_with_exactly_once_gives_every_alert_exactly_once(
    bootstrap: str, tmp_path: Path
) -> None:
    report = scenarios.crash_restart(bootstrap, tmp_path, processing_guarantee="exactly_once")
    assert_whole(report)
    # Read with read_committed: the crashed worker's open transaction was aborted.
    assert report.duplicate_alerts == 0, report
    ids = kcat_alert_ids(report)
    assert len(ids) == report.alerts_expected and set(ids.values()) == {1}, ids


def test_broker_outage_mid_stream_is_ridden_out_without_a_restart(tmp_path: Path) -> None:
    report = scenarios.broker_outage(shared_kafka_libs(), tmp_path)
    assert_whole(report)


def test_workers_joining_and_leaving_mid_stream_give_the_alerts_of_one(
    bootstrap: str, tmp_path: Path
) -> None:
    report = scenarios.rebalance(bootstrap, tmp_path)
    assert_whole(report)


def test_a_worker_joining_and_leaving_with_exactly_once_gives_every_alert_once(
    bootstrap: str, tmp_path: Path
) -> None:
    report = scenarios.rebalance(
        bootstrap, tmp_path, workers=1, processing_guarantee="exactly_once"
    )
    assert_whole(report)
    assert report.duplicate_alerts == 0, report
    ids = kcat_alert_ids(report)
    assert len(ids) == report.alerts_expected and set(ids.values()) == {1}, ids


def test_reports_from_long_ago_and_from_the_future_follow_the_clock_rule(
    bootstrap: str, tmp_path: Path
) -> None:
    report = scenarios.clock_trouble(bootstrap, tmp_path)
    assert_whole(report)
