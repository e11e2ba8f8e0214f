"""A watchlist changed while the worker runs: pushed, refused when invalid, taken when
valid, with no restart."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
import yaml

from streams.cli import main
from streams.pipeline.watchlist_topic import push_watchlist
from streams.settings import Settings
from streams.sources.samplefeed import signal_reports
from tests.integration.test_pipeline import read_topic, replay
from tests.integration.test_plugins import T0, feed
from tests.support.worker_process import settings_env

pytestmark = pytest.mark.integration

BUNDLED = Path(__file__).resolve().parents[2] / "streams" / "data" / "watchlist.yaml"
NEW = "black-sea-grain-blockade"
DROPPED = "union-state-joint-units"


def taken(log: Path) -> int:
    return log.read_text().count('"msg":"watchlist taken"') if log.exists() else 0


def test_a_running_worker_alerts_on_a_signal_pushed_after_it_started(
    settings: Settings,
    worker_factory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    worker = worker_factory(settings)  # the bundled watchlist: no such signal
    log = tmp_path / "worker-0.log"
    deadline = time.monotonic() + 30
    while '"msg":"[^WatchlistFeed]: Starting..."' not in log.read_text():
        assert time.monotonic() < deadline, "the ingest process did not start"  # its feed
        time.sleep(0.5)

    # A key of a signal the new watchlist drops.
    before = T0 + timedelta(days=1, hours=2)
    joint = signal_reports(3, DROPPED, "Baltics", [before + timedelta(minutes=9)])
    replay(settings, [orjson.dumps(i) for i in joint])
    worker.wait_until("the dropped signal's key", lambda m: m.get("watchfloor_active_keys") == 1)

    # An invalid watchlist on the topic is refused; the one in force stays.
    asyncio.run(push_watchlist(settings, "version: x\nsignals: not-a-list\n"))
    deadline = time.monotonic() + 30
    while "watchlist refused" not in log.read_text():
        assert time.monotonic() < deadline, "the invalid watchlist was not refused"
        time.sleep(0.5)

    data = yaml.safe_load(BUNDLED.read_text())
    data["version"] = "2026.12.1"
    data["signals"] = [s for s in data["signals"] if s["id"] != DROPPED]
    data["signals"].append(
        {
            "id": NEW,
            "within": "sentence",
            "all_of": [
                {"name": "grain", "terms": ["grain", "wheat"]},
                {"name": "blockade", "terms": ["blockade*", "blocked"]},
            ],
            "detectors": [{"kind": "threshold", "count": 4}],
            "scales": [{"size": "1h"}],
        }
    )
    path = tmp_path / "watchlist.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["watchlist", str(path), "--push"]) == 0
    pushed = capsys.readouterr().out
    assert "pushed to" in pushed
    version = pushed.split()[1].rstrip(":")  # "watchlist <version>: 6 signals ok"
    deadline = time.monotonic() + 30
    while taken(log) < 2:  # the worker's detect and its ingest process
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.5)

    start = T0 + timedelta(days=1, hours=9)
    items = [
        {
            "id": f"grain-{i}",
            "title": f"Grain ships blocked outside Odesa, report {i}",
            "body": f"The wheat blockade held for a {i + 2}nd day, port officials said.",
            "published_at": (start + timedelta(minutes=7 * i)).isoformat(),
            "region": "Black Sea",
            "publisher": f"Harbour Desk {i}",
        }
        for i in range(6)
    ]
    lines = feed(items)
    replay(settings, lines)
    worker.wait_until(
        "an alert on the new signal",
        lambda m: (
            m.get(f'watchfloor_alerts_emitted_total{{severity="info",signal="{NEW}"}}', 0)
            + m.get(f'watchfloor_alerts_emitted_total{{severity="warning",signal="{NEW}"}}', 0)
            + m.get(f'watchfloor_alerts_emitted_total{{severity="critical",signal="{NEW}"}}', 0)
            >= 1
        ),
    )
    alerts = [json.loads(v) for _, v in read_topic(settings, settings.topic_alerts)]
    mine = [a for a in alerts if a["signal_id"] == NEW]
    assert mine and all(a["watchlist_version"] == version for a in mine)
    assert mine[0]["key"] == f"{NEW}|black-sea"
    assert f'"signals":["{DROPPED}"],"keys":1' in log.read_text()  # expired with its state
    hits = [orjson.loads(v) for _, v in read_topic(settings, settings.topic_signals)]
    assert {h["watchlist_version"] for h in hits if h.get("signal_id") == NEW} == {version}
