"""Dead letters listed by reason and sent back to the raw topic once their cause is fixed."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from streams.cli import main
from streams.settings import Settings
from tests.integration.test_pipeline import replay
from tests.support.faults.accounting import read_records
from tests.support.worker_process import settings_env

pytestmark = pytest.mark.integration


def item(n: int, published: datetime) -> bytes:
    return orjson.dumps(
        {"id": f"dl-{n}", "title": f"Report {n}", "published_at": published.isoformat()}
    )


def test_dead_letters_are_listed_by_reason_and_resent_after_the_fix_with_their_ids(
    settings: Settings,
    worker_factory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # An outlet whose clock runs two days ahead: refused while a day ahead is the limit.
    settings = settings.model_copy(update={"max_event_ahead": 86_400.0})
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    now = datetime.now(UTC)
    lines = [item(n, now - timedelta(hours=n)) for n in range(4)]
    lines += [item(10, now + timedelta(days=2)), item(11, now + timedelta(days=2)), b"{oops"]
    first = worker_factory(settings)
    replay(settings, lines)
    first.wait_until(
        "every record accounted",
        lambda m: (
            m.get("watchfloor_items_ingested_total") == 4
            and sum(v for k, v in m.items() if k.startswith("watchfloor_items_deadlettered_total"))
            == 3
        ),
    )

    assert main(["deadletters"]) == 0
    out = capsys.readouterr().out
    assert "3 dead letters" in out and "2  future_timestamp   kafka" in out
    assert "1  invalid_json       kafka" in out and "id dl-10" in out
    assert main(["deadletters", "--reason", "future_timestamp", "--json"]) == 0
    chosen = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {c["reason"] for c in chosen} == {"future_timestamp"} and len(chosen) == 2
    assert "published_at" in chosen[0]["error"]

    # The fix: a worker that accepts reports up to a week ahead; then the resend.
    first.stop()
    fixed = settings.model_copy(update={"max_event_ahead": 7 * 86_400.0})
    second = worker_factory(fixed)
    assert main(["deadletters", "--resend"]) == 2  # a resend must say which
    assert "--resend needs a choice" in capsys.readouterr().err
    assert main(["deadletters", "--reason", "future_timestamp", "--resend"]) == 0
    assert "sent 2 back to" in capsys.readouterr().out
    metrics = second.wait_until(
        "the resent records ingested",
        lambda m: m.get("watchfloor_items_ingested_total") == 2,
    )
    assert metrics.get("watchfloor_records_received_total") == 2  # nothing else read again
    assert metrics.get("watchfloor_records_resent_total") == 2
    assert not any(k.startswith("watchfloor_items_deadlettered") for k in metrics)


def test_bad_records_deep_in_a_backlog_are_dead_lettered_with_their_own_bytes(
    settings: Settings, worker_factory
) -> None:
    # Sent before the worker starts: ingest reads them as one batch of several chunks, so
    # a refusal must still name its own record, not one at the same place in the first.
    now = datetime.now(UTC)
    lines = [item(n, now - timedelta(seconds=n)) for n in range(2_600)]
    bad = {1_234: b"{broken", 2_501: b'{"id": "no-title", "published_at": "2024-01-01T00:00:00Z"}'}
    for position, value in bad.items():
        lines[position] = value
    replay(settings, lines)
    worker = worker_factory(settings)
    worker.wait_until(
        "every record accounted",
        lambda m: (
            m.get("watchfloor_items_ingested_total") == len(lines) - len(bad)
            and sum(v for k, v in m.items() if k.startswith("watchfloor_items_deadlettered_total"))
            == len(bad)
        ),
    )
    letters = [
        orjson.loads(v) for _, v in asyncio.run(read_records(settings, settings.topic_deadletter))
    ]
    originals = {base64.b64decode(d["original_b64"]): d["reason"] for d in letters}
    assert originals == {bad[1_234]: "invalid_json", bad[2_501]: "validation_failed"}
