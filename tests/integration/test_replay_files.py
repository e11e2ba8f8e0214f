"""`watchfloor replay` of a folder (JSONL, markdown, CSV) into a live worker: every record
ends ingested or dead-lettered, and --speedup paces by event time."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import orjson
import pytest

from streams.cli.replay import replay
from streams.settings import Settings
from tests.integration.conftest import read_topic

pytestmark = pytest.mark.integration

ARTICLES = Path(__file__).resolve().parents[2] / "streams" / "data" / "articles"


def folder(tmp_path: Path) -> Path:
    root = tmp_path / "history"
    root.mkdir()
    lines = [
        orjson.dumps(
            {"id": f"j{i}", "title": f"JSONL item {i}", "published_at": f"2026-06-01T10:0{i}:00Z"}
        )
        for i in range(3)
    ]
    huge = orjson.dumps(
        {
            "id": "huge",
            "title": "x",
            "body": "y" * 1_000_000,
            "published_at": "2026-06-01T10:09:00Z",
        }
    )
    (root / "items.jsonl").write_bytes(b"\n".join([*lines, b"{not json", huge]) + b"\n")
    shutil.copy(next(ARTICLES.glob("*.md")), root / "article.md")
    (root / "rows.csv").write_text(
        "guid,headline,date,area\n"
        "c1,CSV row one,2026-06-01T10:05:00Z,Baltics\n"
        "c2,CSV row two,2026-06-01T10:06:00Z,Baltics\n"
        "c3,CSV row without a date,,Baltics\n"
    )
    return root


def test_a_folder_of_every_format_is_accounted_for(
    settings: Settings, worker_factory, tmp_path: Path
) -> None:
    worker = worker_factory(settings)
    columns = {"id": "guid", "title": "headline", "published_at": "date", "region": "area"}
    report = asyncio.run(replay(settings, folder(tmp_path), columns=columns))
    assert (report.sent, report.invalid, report.too_large, report.unreadable) == (8, 2, 1, 0)
    # Why, by reason, with the first example of each: where it is and what is wrong.
    assert report.reasons == {"invalid_json": 1, "validation_failed": 1}
    assert report.examples["invalid_json"].startswith(f"{tmp_path}/history/items.jsonl:4: ")
    assert "rows.csv" in report.examples["validation_failed"]
    assert "published_at" in report.examples["validation_failed"]
    metrics = worker.wait_until(
        "every replayed record", lambda m: m.get("watchfloor_records_received_total") == 8
    )
    dead = sum(v for k, v in metrics.items() if k.startswith("watchfloor_items_deadlettered_total"))
    assert metrics["watchfloor_items_ingested_total"] == 6 and dead == 2
    # The record too large for the raw topic went straight to the dead-letter topic.
    letters = [orjson.loads(v) for _, v in read_topic(settings, settings.topic_deadletter)]
    [big] = [x for x in letters if x["source"] == "file"]
    assert (
        big["reason"] == "too_large" and big["truncated"] and big["topic"].endswith("items.jsonl:5")
    )


def test_speedup_paces_by_event_time(settings: Settings, tmp_path: Path) -> None:
    root = tmp_path / "paced"
    root.mkdir()
    items = [
        {"id": f"p{i}", "title": "Paced", "published_at": f"2026-06-01T10:00:{10 * i:02d}Z"}
        for i in range(4)
    ]  # 30 seconds of event time
    (root / "p.jsonl").write_bytes(b"\n".join(orjson.dumps(i) for i in items))
    started = time.monotonic()
    report = asyncio.run(replay(settings, root, speedup=10.0))
    assert report.sent == 4
    assert time.monotonic() - started >= 2.5  # 30 s of events at 10x: about 3 s
