"""Live workers whose Faust hand-over loses signals records, as faust-streaming #596 does
after a recovery: detection reads each lost record again at once, in its place, and alerts
exactly as a run without loss (the stuck-commit re-read is kept out of reach)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from streams.offline import run_offline
from streams.settings import Settings
from tests.integration.conftest import read_topic, wait_for
from tests.integration.test_pipeline import feed_lines, replay
from tests.support.faults.accounting import Topics, topic_position

pytestmark = pytest.mark.integration

LOST = 40
"""An offset inside the surge, lost by the first worker besides its first record."""

# Loaded by each worker at start-up through PYTHONPATH: Faust's conductor, which hands each
# fetched record to the agents' streams, swallows the first signals record the worker gets
# and the one at FAULT_LOSE_OFFSET. The consumer moves on past them, as when #596 drops one.
LOSE_RECORDS = """
import os
from faust.transport import conductor

_topic = os.environ["FAULT_LOSE_TOPIC"]
_lose = {int(os.environ["FAULT_LOSE_OFFSET"]), "first"}
_compile = conductor.Conductor._compile_message_handler


def _losing(self):
    handler = _compile(self)

    async def on_message(message):
        if message.topic == _topic:
            for which in ("first", message.offset):
                if which in _lose:
                    _lose.discard(which)
                    return None
        return await handler(message)

    return on_message


conductor.Conductor._compile_message_handler = _losing
"""


def test_records_lost_on_their_way_to_detection_are_read_again_in_their_place(
    settings: Settings, worker_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(LOSE_RECORDS)
    path = [str(inject), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(path))
    monkeypatch.setenv("FAULT_LOSE_TOPIC", settings.topic_signals)
    monkeypatch.setenv("FAULT_LOSE_OFFSET", str(LOST))
    # The stuck-commit re-read must not be what brings the records back.
    settings = settings.model_copy(update={"commit_stall_timeout": 3600.0})
    lines = feed_lines()
    expected = run_offline(lines, settings)
    cut = len(lines) * 4 // 5  # inside the surge: the second worker has alerts to get right

    first = worker_factory(settings)
    replay(settings, lines[:cut])
    first.wait_until("the first part", lambda m: m.get("watchfloor_records_received_total") == cut)
    middle = _all_committed(settings)
    stuck = _rereads(first.wait_until("its metrics", lambda m: True), "stuck_commit")
    first.stop()
    # The restarted worker loses the first record it should read, as in the CI run that
    # lost offset 860.
    second = worker_factory(settings)
    replay(settings, lines[cut:])
    second.wait_until(
        "the rest", lambda m: m.get("watchfloor_records_received_total", 0) >= len(lines) - cut
    )
    end = _all_committed(settings)

    got = [json.loads(v) for _, v in read_topic(settings, settings.topic_alerts)]
    assert sorted(a["alert_id"] for a in got) == sorted(a.alert_id for a in expected.alerts)
    assert LOST < middle.end < end.end
    stuck += _rereads(second.wait_until("its metrics", lambda m: True), "stuck_commit")
    assert stuck == 0
    second.stop()
    # A re-read from the first lost record may bring the second one back with it.
    assert 0 in _sought(first.log) <= {0, LOST}
    assert _sought(second.log) == {middle.end}


def _all_committed(settings: Settings) -> Topics:
    """The signals topic once detection has committed all of it."""
    return wait_for(
        "detection's commits to reach the end of the signals topic",
        lambda: (
            (p := asyncio.run(topic_position(settings, settings.topic_signals))).committed == p.end
            and p
        ),
    )


def _sought(log: Path) -> set[int]:
    return {
        json.loads(line)["offset"]
        for line in log.read_text().splitlines()
        if "went missing on its way" in line
    }


def _rereads(metrics: dict[str, float], cause: str) -> float:
    return metrics.get(f'watchfloor_partition_rereads_total{{cause="{cause}"}}', 0.0)
