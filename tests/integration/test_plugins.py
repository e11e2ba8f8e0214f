"""The example plugins, installed with pip as a user would, in a live worker."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
    items += [
        {"id": f"tick-{o}", "title": "Weather", "publisher": o,
         "published_at": (T0 + timedelta(days=3)).isoformat()}
        for o in ("Met Desk", "Weather Wire")
    ]  # fmt: skip
    lines = [orjson.dumps(i) for i in sorted(items, key=lambda i: str(i["published_at"]))]

    run_pipeline(settings, worker_factory, lines, alerts=1)
    alerts = [json.loads(v) for _, v in read_topic(settings, settings.topic_alerts)]
    opened = [a for a in alerts if a["update"] == "opened"]
    assert len(opened) == 1, alerts
    (alert,) = opened
    assert alert["detector"]["kind"] == "escalation"
    assert alert["detector"]["params"]["windows"] == 3
    # The window of the fourth hour: 4 reports after 1, 2 and 3.
    assert alert["window_start"].startswith("2026-06-02T09:00") and alert["count"] == 4
