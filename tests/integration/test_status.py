"""``watchfloor status`` against the real broker and a live worker."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from streams.cli import main
from streams.settings import Settings
from tests.integration.test_pipeline import feed_lines, run_pipeline
from tests.support.worker_process import settings_env

pytestmark = pytest.mark.integration


def status(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    code = main(["status", "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_status_shows_topics_lag_per_group_and_the_workers_own_figures(
    settings: Settings,
    worker_factory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    lines = feed_lines()
    run_pipeline(settings, worker_factory, lines, alerts=1)

    deadline = time.monotonic() + 60
    while True:  # offsets are committed a moment after the records are processed
        code, found = status(capsys)
        lags = {g["group"]: g for g in found["groups"]}
        if all(g["total"] == 0 for g in lags.values()) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert code == 0 and found["ok"] and found["broker"].startswith("up (1 brokers)"), found
    assert found["topics"] == {
        settings.topic_raw: 1,
        settings.topic_signals: 1,
        settings.topic_alerts: 1,
        settings.topic_deadletter: 1,
        settings.topic_watchlist: 1,
    }
    ingest = lags[settings.ingest_group]
    assert ingest["partitions"] == {f"{settings.topic_raw}[0]": 0}
    assert lags[settings.app_id]["partitions"][f"{settings.topic_signals}[0]"] == 0
    worker = found["worker"]
    assert worker["up"] and worker["active_keys"] >= 1 and worker["watermark"] > 1.7e9
    assert found["watchlist"].startswith("2026.")
    log = (tmp_path / "worker-0.log").read_text()
    assert '"msg":"worker ready"' in log and '"level":"error"' not in log

    # The same for people, and a missing topic makes it say so with exit code 2.
    assert main(["status"]) == 0
    text = capsys.readouterr().out
    assert f"group     {settings.ingest_group} (ingest): lag 0" in text
    monkeypatch.setenv("WATCHFLOOR_TOPIC_DEADLETTER", "no-such-topic")
    assert main(["status"]) == 2
    assert "topic     no-such-topic: missing" in capsys.readouterr().out
