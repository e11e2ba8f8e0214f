"""The example plugins, installed with pip as a user would, in a live worker."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import orjson
import pytest
import yaml

from streams.settings import Settings
from streams.sources.samplefeed import signal_reports
from tests.integration.test_pipeline import read_topic, run_pipeline

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
T0 = datetime(2026, 6, 1, tzinfo=UTC)
SIGNAL = "belarus-men-crossing-eu"


def pip_install(example: str, target: Path) -> None:
    """Into a folder of its own, so the test environment stays as it was; built from a
    copy, so the build leaves nothing in the checkout."""
    source = target.parent / f"{example}-source"
    shutil.copytree(EXAMPLES / example, source)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--target", str(target), str(source)], check=True)


def feed(items: list[dict[str, object]]) -> list[bytes]:
    """``items`` in time order, then news from two outlets days later: their watermarks
    pass every window of the items, which are then judged."""
    items = items + [
        {"id": f"tick-{o}", "title": "Weather", "publisher": o,
         "published_at": (T0 + timedelta(days=3)).isoformat()}
        for o in ("Met Desk", "Weather Wire")
    ]  # fmt: skip
    return [orjson.dumps(i) for i in sorted(items, key=lambda i: str(i["published_at"]))]


def test_a_detector_plugin_is_named_in_a_watchlist_like_a_built_in_one(
    settings: Settings, worker_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    pip_install("detector-plugin", site)
    monkeypatch.setenv("PYTHONPATH", str(site))  # the worker's environment has it installed

    bundled = Path(__file__).parents[2] / "streams" / "data" / "watchlist.yaml"
    data = yaml.safe_load(bundled.read_text())
    for signal in data["signals"]:
        if signal["id"] == SIGNAL:
            signal["detectors"] = [{"kind": "escalation", "windows": 3, "min_count": 4}]
            signal["scales"] = [{"size": "1h"}]
    watchlist = tmp_path / "watchlist.yaml"
    watchlist.write_text(yaml.safe_dump(data, sort_keys=False))
    settings = settings.model_copy(update={"watchlist": watchlist})

    # 1, 2, 3, 4 and 5 reports in five hours: four rises, the third with 4 reports.
    start = T0 + timedelta(days=1, hours=6)
    times = [start + timedelta(hours=h, minutes=5 * i) for h in range(5) for i in range(h + 1)]
    items = signal_reports(1, SIGNAL, "Eastern Europe", times)
    run_pipeline(settings, worker_factory, feed(items), alerts=1)
    alerts = [json.loads(v) for _, v in read_topic(settings, settings.topic_alerts)]
    opened = [a for a in alerts if a["update"] == "opened"]
    assert len(opened) == 1, alerts
    (alert,) = opened
    assert alert["detector"]["kind"] == "escalation"
    assert alert["detector"]["params"]["windows"] == 3
    # The window of the fourth hour: 4 reports after 1, 2 and 3.
    assert alert["window_start"].startswith("2026-06-02T09:00") and alert["count"] == 4


def test_an_agent_plugin_switched_on_by_settings_sends_compound_alerts_to_its_schema(
    settings: Settings, worker_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    pip_install("correlation-agent", site)
    monkeypatch.setenv("PYTHONPATH", str(site))
    compound_topic = f"{settings.topic_alerts}.compound"
    monkeypatch.setenv("WATCHFLOOR_CORRELATION_TOPIC", compound_topic)
    monkeypatch.setenv("WATCHFLOOR_CORRELATION_HORIZON", str(12 * 3600))
    settings = settings.model_copy(update={"agents": ["correlation"]})

    # Three signals surge in one region two hours apart; a fourth alone elsewhere.
    start = T0 + timedelta(days=1, hours=6)
    surges = [
        ("belarus-men-crossing-eu", "Eastern Europe", 0),
        ("belarus-service-law-change", "Eastern Europe", 2),
        ("union-state-joint-units", "Eastern Europe", 4),
        ("belarusians-in-russian-formations", "Baltic states", 1),
    ]
    items = []
    for n, (signal, region, hour) in enumerate(surges):
        times = [start + timedelta(hours=hour, minutes=5 * i) for i in range(10)]
        items += signal_reports(n, signal, region, times)

    worker, _ = run_pipeline(settings, worker_factory, feed(items), alerts=4)

    def same(counts: tuple[float, float, float]) -> bool:
        return counts[0] == counts[1]

    def settled(m: dict[str, float]) -> tuple[float, float, float]:
        """Alerts emitted, alerts the agent read, compound alerts sent."""
        emitted = sum(v for k, v in m.items() if k.startswith("watchfloor_alerts_emitted_total"))
        taken = m.get('watchfloor_correlation_alerts_read_total{outcome="taken"}', 0)
        return emitted, taken, m.get("watchfloor_correlation_compound_alerts_total", 0)

    # Settled: every alert read by the agent, and nothing new for 3 s (reminders the
    # last ticks bring come in the seconds after them).
    before = None
    for _ in range(20):
        now = settled(worker.wait_until("the agent reads every alert", lambda m: same(settled(m))))
        if now == before:
            break
        before = now
        time.sleep(3)
    assert now == before and now[2] == 2, now
    records = [json.loads(v) for _, v in read_topic(settings, compound_topic)]
    schema = json.loads(
        (EXAMPLES / "correlation-agent" / "schemas" / "compound-alert.schema.json").read_text()
    )
    for record in records:
        jsonschema.validate(record, schema, format_checker=jsonschema.FormatChecker())
    assert [r["signals"] for r in records] == [
        ["belarus-men-crossing-eu", "belarus-service-law-change"],
        ["belarus-men-crossing-eu", "belarus-service-law-change", "union-state-joint-units"],
    ]
    assert (
        len({r["region"] for r in records}) == 1 and len({r["compound_id"] for r in records}) == 2
    )
