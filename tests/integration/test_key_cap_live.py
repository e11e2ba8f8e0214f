"""A feed that names a new region in every report, through a live worker on two partitions:
past WATCHFLOOR_MAX_KEYS_PER_SIGNAL the reports count under the signal's other key of each
partition, which alerts like a region; the worker counts and logs it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from streams.detect.key_cap import KeyCap
from streams.pipeline.agents.detect import _default_partition
from streams.settings import Settings
from streams.sources.samplefeed import signal_reports
from tests.integration.conftest import read_topic
from tests.integration.test_pipeline import run_pipeline

pytestmark = pytest.mark.integration

SIGNAL = "belarus-men-crossing-eu"
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)


def test_reports_past_the_key_cap_count_under_each_partitions_other_key(
    settings: Settings, worker_factory
) -> None:
    settings = settings.model_copy(update={"partitions": 2, "max_keys_per_signal": 4})
    regions = [f"Oblast {n}" for n in range(40)]
    lines = [
        orjson.dumps(
            {**signal_reports(n, SIGNAL, region, [T0 + timedelta(minutes=n)])[0], "id": f"r{n}"}
        )
        for n, region in enumerate(regions)
    ]
    # Two keys a partition; a cold key alerts from 8 reports in a window, so each
    # partition's other key, with about 18, alerts at once.
    worker, metrics = run_pipeline(settings, worker_factory, lines, alerts=2)

    cap = KeyCap(4, 2, lambda key: _default_partition(key, 2))
    others = {cap.other(SIGNAL, p) for p in (0, 1)}
    assert metrics[f'watchfloor_keys_folded_total{{signal="{SIGNAL}"}}'] == 40 - 4
    alerts = [json.loads(v) for _, v in read_topic(settings, settings.topic_alerts)]
    assert {a["key"] for a in alerts} == others
    assert {a["region"] for a in alerts} == {"other"}
    worker.stop()
    logged = [
        json.loads(line)
        for line in worker.log.read_text().splitlines()
        if "WATCHFLOOR_MAX_KEYS_PER_SIGNAL" in line
    ]
    assert sorted(entry["other_key"] for entry in logged) == sorted(others)
