"""Reports collected late, as RSS pollers and aggregators deliver them, through a live worker:
the same alerts as the feed in publication order gives offline (``watchfloor backtest``)."""

from __future__ import annotations

import json
import random
from datetime import datetime

import orjson
import pytest

from streams.backtest.osint import scenario
from streams.offline import run_offline
from streams.settings import Settings
from streams.sources.samplefeed import generate
from tests.integration.conftest import read_topic
from tests.integration.test_pipeline import run_pipeline

pytestmark = pytest.mark.integration

HOUR = 3600.0


def collected(items: list[dict[str, object]], seed: int) -> list[dict[str, object]]:
    """Delivery order when each outlet is collected its own way: 60 % of outlets within
    five minutes, 30 % by hourly pollers, 10 % one to three hours late (inside the 4 h
    allowed lateness of the shortest scale)."""
    rng = random.Random(seed)
    outlets = sorted({str(i.get("publisher")) for i in items})
    kind = {o: rng.choices(["now", "hourly", "late"], [6, 3, 1])[0] for o in outlets}
    delay = {
        "now": lambda: rng.uniform(0, 300),
        "hourly": lambda: rng.uniform(0, HOUR),
        "late": lambda: rng.uniform(HOUR, 3 * HOUR),
    }

    def arrival(item: dict[str, object]) -> float:
        published = datetime.fromisoformat(str(item["published_at"])).timestamp()
        return published + delay[kind[str(item.get("publisher"))]]()

    timed = sorted(((arrival(item), n), item) for n, item in enumerate(items))
    return [item for _, item in timed]


def test_a_feed_collected_late_gives_the_alerts_of_the_feed_in_order(
    settings: Settings, worker_factory
) -> None:
    items = sorted(generate(), key=lambda i: str(i["published_at"]))
    in_order = [orjson.dumps(i) for i in items]
    late = [orjson.dumps(i) for i in collected(items, seed=1)]
    assert late != in_order
    expected = run_offline(in_order, settings)
    assert expected.alerts

    _, metrics = run_pipeline(settings, worker_factory, late, len(expected.alerts))
    got = [json.loads(v) for _, v in read_topic(settings, settings.topic_alerts)]
    assert sorted(a["alert_id"] for a in got) == sorted(a.alert_id for a in expected.alerts)
    # Some reports came after their windows were first judged, and revised them.
    assert metrics["watchfloor_windows_revised_total"] > 0
    assert metrics.get('watchfloor_late_events_total{signal="belarus-men-crossing-eu"}', 0) == 0


def test_a_suite_feed_as_its_outlets_deliver_it_gives_the_alerts_of_publication_order(
    settings: Settings, worker_factory
) -> None:
    """Three weeks of an OSINT suite scenario (a sharp burst, two syndication storms, news
    rhythm), delivered as its outlets are collected (up to four hours late), against the
    same items in publication order, offline."""
    case = scenario("sharp", 0)
    in_order = sorted(case.items, key=lambda i: str(i["published_at"]))
    assert case.items != in_order
    expected = run_offline([orjson.dumps(i) for i in in_order], settings)
    assert any(a.key == case.burst.key for a in expected.alerts if case.burst)

    late = [orjson.dumps(i) for i in case.items]
    _, metrics = run_pipeline(settings, worker_factory, late, len(expected.alerts))
    got = [json.loads(v) for _, v in read_topic(settings, settings.topic_alerts)]
    assert sorted(a["alert_id"] for a in got) == sorted(a.alert_id for a in expected.alerts)
    assert metrics["watchfloor_windows_revised_total"] > 0
