"""The sample feed through a real worker on the real broker: alerts, dead letters, reruns."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import datetime
from pathlib import Path

import jsonschema
import orjson
import pytest

from streams.cli.replay import send_records
from streams.offline import run_offline
from streams.settings import Settings
from streams.sources.files import FileRecord
from streams.sources.samplefeed import DEFAULT_SURGE, generate
from tests.integration.conftest import fresh_settings, read_topic
from tests.support.faults.feed import BAD_RECORDS

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
MALFORMED = BAD_RECORDS


def feed_lines() -> list[bytes]:
    lines = [orjson.dumps(item) for item in generate()]
    # Bad records scattered through the feed, as they would arrive in real life.
    for i, bad in enumerate(MALFORMED):
        lines.insert(500 * (i + 1), bad)
    return lines


def replay(settings: Settings, lines: list[bytes]) -> None:
    records = [FileRecord(None, line, f"line {i}") for i, line in enumerate(lines)]
    report = asyncio.run(send_records(settings, records))
    assert report.sent == len(lines)


def run_pipeline(settings: Settings, worker_factory, lines: list[bytes], alerts: int):  # type: ignore[no-untyped-def]
    worker = worker_factory(settings)
    replay(settings, lines)
    metrics = worker.wait_until(
        "every record accounted and every alert out",
        lambda m: (
            m.get("watchfloor_records_received_total") == len(lines)
            and sum(v for k, v in m.items() if k.startswith("watchfloor_alerts_emitted_total"))
            >= alerts
        ),
    )
    return worker, metrics


def test_sample_feed_alerts_the_surge_and_accounts_for_every_record(
    settings: Settings, worker_factory
) -> None:
    lines = feed_lines()
    expected = run_offline(lines, settings)
    assert expected.alerts, "the sample feed must contain an alertable surge"

    _, metrics = run_pipeline(settings, worker_factory, lines, len(expected.alerts))

    # Nothing lost: processed + dead-lettered == sent, per the worker's own counters.
    dead = {k: v for k, v in metrics.items() if k.startswith("watchfloor_items_deadlettered_total")}
    assert metrics["watchfloor_items_ingested_total"] + sum(dead.values()) == len(lines)
    assert sum(dead.values()) == len(MALFORMED)
    assert dead['watchfloor_items_deadlettered_total{reason="invalid_utf8"}'] == 1

    # The dead-letter topic holds each bad record byte for byte, with a reason and offset.
    letters = [json.loads(v) for _, v in read_topic(settings, settings.topic_deadletter)]
    schema = json.loads((SCHEMAS / "dead-letter.schema.json").read_text())
    for letter in letters:
        jsonschema.validate(letter, schema)
    assert sorted(base64.b64decode(x["original_b64"]) for x in letters) == sorted(MALFORMED)
    assert {x["reason"] for x in letters} == {
        "invalid_json",
        "invalid_utf8",
        "validation_failed",
        "not_an_object",
        "future_timestamp",
    }
    assert all(x["offset"] >= 0 and x["error"] for x in letters)

    # Exactly the alerts the core computes offline, all for the surge, none in quiet weeks.
    got = [json.loads(v) for _, v in read_topic(settings, settings.topic_alerts)]
    alert_schema = json.loads((SCHEMAS / "alert.schema.json").read_text())
    for alert in got:
        jsonschema.validate(alert, alert_schema)
    assert sorted(a["alert_id"] for a in got) == sorted(a.alert_id for a in expected.alerts)
    surge_start, surge_end = DEFAULT_SURGE.start.timestamp(), DEFAULT_SURGE.end.timestamp()
    assert len({a["burst_id"] for a in got}) == 1  # one surge, one burst with updates
    for alert in got:
        assert alert["signal_id"] == "belarus-men-crossing-eu"
        start = datetime.fromisoformat(alert["window_start"]).timestamp()
        end = datetime.fromisoformat(alert["window_end"]).timestamp()
        assert start < surge_end and end > surge_start  # the window overlaps the surge
        if alert["update"] == "opened":
            assert surge_start <= start < surge_end
        assert alert["evidence"] and all(e["url"] and e["title"] for e in alert["evidence"])
        assert alert["count"] >= 5 and alert["publishers"] >= 3

    # Redeliveries of the same item id count once.
    assert metrics['watchfloor_duplicates_dropped_total{signal="belarus-men-crossing-eu"}'] >= 1


def test_rerun_over_the_same_feed_yields_the_same_alert_ids(bootstrap: str, worker_factory) -> None:
    lines = [orjson.dumps(item) for item in generate()]
    ids = []
    for _ in range(2):
        settings = fresh_settings(bootstrap)
        expected = run_offline(lines, settings)
        run_pipeline(settings, worker_factory, lines, len(expected.alerts))
        ids.append(
            sorted(
                json.loads(v)["alert_id"] for _, v in read_topic(settings, settings.topic_alerts)
            )
        )
    assert ids[0] and ids[0] == ids[1]


def test_a_restarted_worker_restores_detection_state_from_the_changelog(
    settings: Settings, worker_factory
) -> None:
    lines = [orjson.dumps(item) for item in generate()]
    expected = run_offline(lines, settings)
    cut = len(lines) * 4 // 5  # after the surge has begun: windows and baselines are open
    first = worker_factory(settings)
    replay(settings, lines[:cut])
    first.wait_until("the first part", lambda m: m.get("watchfloor_records_received_total") == cut)
    first.stop()
    second = worker_factory(settings)
    replay(settings, lines[cut:])
    # At least once: the first worker's last uncommitted records may come round again.
    second.wait_until(
        "the rest, by the restarted worker",
        lambda m: m.get("watchfloor_records_received_total", 0) >= len(lines) - cut,
    )
    want = {a.alert_id: _described(a.model_dump(mode="json")) for a in expected.alerts}
    deadline = time.monotonic() + 60
    got: dict[str, str] = {}
    while time.monotonic() < deadline and got.keys() != want.keys():
        sent = [json.loads(v) for _, v in read_topic(settings, settings.topic_alerts)]
        got = {a["alert_id"]: _described(a) for a in sent}
    # Baselines, open windows and re-alert state all came back: the same alerts as one run.
    extra = sorted(d for i, d in got.items() if i not in want)
    missing = sorted(d for i, d in want.items() if i not in got)
    assert not extra and not missing, (
        f"extra {extra}, missing {missing}; logs in {first.log.parent}"
    )


def _described(alert: dict[str, object]) -> str:
    """An alert in a failure message: what tells two alerts of one key apart."""
    return " ".join(str(alert.get(k)) for k in ("key", "window_start", "scale", "update", "count"))


def test_a_worker_that_lost_the_state_behind_sent_alerts_does_not_send_them_again(
    settings: Settings, worker_factory
) -> None:
    # The extreme of a kill between an alert and the state recording it: a second app id
    # has no state at all, reads the same input again and computes every alert anew, all
    # of them already on the alerts topic.
    lines = [orjson.dumps(item) for item in generate()]
    expected = run_offline(lines, settings)
    first, _ = run_pipeline(settings, worker_factory, lines, len(expected.alerts))
    first.stop()
    successor = settings.model_copy(update={"app_id": settings.app_id + "-b"})
    second = worker_factory(successor)
    metrics = second.wait_until(
        "every alert recomputed",
        lambda m: m.get("watchfloor_alerts_already_sent_total", 0) >= len(expected.alerts),
    )
    assert not any(
        k.startswith("watchfloor_alerts_emitted_total") and v for k, v in metrics.items()
    )
    ids = [json.loads(v)["alert_id"] for _, v in read_topic(settings, settings.topic_alerts)]
    assert sorted(ids) == sorted(a.alert_id for a in expected.alerts)
