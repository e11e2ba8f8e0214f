"""Two signals judged by different detectors in one live worker on the real broker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import yaml

from streams.offline import run_offline
from streams.settings import Settings
from streams.signals.watchlist import load_watchlist
from streams.sources.samplefeed import signal_reports
from tests.integration.test_pipeline import read_topic, run_pipeline

pytestmark = pytest.mark.integration

T0 = datetime(2026, 6, 1, tzinfo=UTC)
BURST_SIGNAL, NEW_SIGNAL = "belarus-men-crossing-eu", "union-state-joint-units"


def watchlist_file(tmp_path: Path) -> Path:
    bundled = Path(__file__).parents[2] / "streams" / "data" / "watchlist.yaml"
    data = yaml.safe_load(bundled.read_text())
    for signal in data["signals"]:
        if signal["id"] == BURST_SIGNAL:
            signal["detectors"] = [{"kind": "threshold", "count": 5, "realert": {"cooldown": "6h"}}]
            # A fixed count means little at every window size: judge hours only.
            signal["scales"] = [{"size": "1h"}]
        if signal["id"] == NEW_SIGNAL:
            signal["detectors"] = [{"kind": "new_term"}]
    path = tmp_path / "watchlist.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def feed() -> list[bytes]:
    quiet = [T0 + timedelta(hours=5 * i) for i in range(12)]
    burst = [T0 + timedelta(days=3, hours=10, minutes=7 * i) for i in range(7)]
    items = signal_reports(1, BURST_SIGNAL, "Eastern Europe", quiet + burst)
    items += signal_reports(
        2, NEW_SIGNAL, "Baltics", [T0 + timedelta(days=2, hours=h) for h in (9, 11)]
    )
    # Event time is the second most advanced outlet's: two outlets move it on.
    items += [
        {"id": f"tick-{o}", "title": "Weather", "publisher": o,
         "published_at": (T0 + timedelta(days=5)).isoformat()}
        for o in ("Met Desk", "Weather Wire")
    ]  # fmt: skip
    items.sort(key=lambda i: str(i["published_at"]))
    return [orjson.dumps(i) for i in items]


def test_each_signal_alerts_through_its_own_detector(
    settings: Settings, worker_factory, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"watchlist": watchlist_file(tmp_path)})
    lines = feed()
    expected = run_offline(lines, settings)
    kinds = {(a.signal_id, a.detector.kind) for a in expected.alerts}
    assert kinds == {(BURST_SIGNAL, "threshold"), (NEW_SIGNAL, "new_term")}

    run_pipeline(settings, worker_factory, lines, len(expected.alerts))
    got = [json.loads(v) for _, v in read_topic(settings, settings.topic_alerts)]
    assert sorted(a["alert_id"] for a in got) == sorted(a.alert_id for a in expected.alerts)
    # Each signal's burst: its first alert (the scales after it send updates).
    by_signal = {a["signal_id"]: a for a in got if a["update"] == "opened"}
    burst, new = by_signal[BURST_SIGNAL], by_signal[NEW_SIGNAL]
    assert burst["detector"] == {
        "name": "threshold",
        "kind": "threshold",
        "params": {"count": 5, "windows": 1, "realert_cooldown": 21600.0, "realert_backoff": 1.0},
    }
    assert burst["count"] >= 5 and burst["window_start"].startswith("2026-06-04T10:00")
    assert burst["scale"] == "1h"
    assert {a["burst_id"] for a in got if a["signal_id"] == BURST_SIGNAL} == {burst["burst_id"]}
    assert new["detector"]["kind"] == "new_term" and new["key"] == f"{NEW_SIGNAL}|baltics"
    version = load_watchlist(settings.watchlist).version
    assert {a["watchlist_version"] for a in got} == {version}
