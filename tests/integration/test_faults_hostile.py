"""Hostile input on the raw topic and over HTTP, through a real worker on a real broker.

Runs ``tests.support.faults.hostile.hostile_input``: the fault feed with invalid UTF-8, JSON
nested 100,000 deep, records near and over the size limit, wrong types, impossible dates,
control characters and NaN among it, the same cases posted to ``POST /v1/items``, then a
flood of one key and a burst of megabyte records. Every record must be accounted for:
processed, or dead-lettered with the reason (and error) its case names; the alerts must be
an offline run's; the worker must stay up, its memory bounded and its rate of good records
near a clean run's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_faults import assert_whole
from tests.support.faults.hostile import hostile_input

pytestmark = pytest.mark.integration


def test_hostile_input_is_dead_lettered_with_its_reasons_and_the_worker_holds(
    bootstrap: str, tmp_path: Path
) -> None:
    report = hostile_input(bootstrap, tmp_path)
    # Whole: every raw record committed, exactly the refused ones dead-lettered (each with
    # its expected reason, checked record by record into `unexpected`), the alerts exact.
    assert_whole(report)
    assert report.duplicate_alerts == 0, report
    figures = report.figures
    assert figures["refused_records"] >= 30 and figures["http_posts"] >= 30, report.notes
    # Loose floors, not timings: the clean run takes a second or two on a shared machine.
    assert figures["throughput_ratio"] > 0.3, report.notes
    # Memory: what is in flight, not what was sent (see RSS_ALLOWANCE_MIB for the figures).
    assert figures["mixed_rss_mib"] <= figures["mixed_rss_bound_mib"], report.notes
    assert figures["hostile_rss_mib"] <= figures["rss_bound_mib"], report.notes
