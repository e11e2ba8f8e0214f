"""One story, one count, on the real broker: a syndication storm of one wire story is one
report, the same number of independent reports is many, and a surge reported in six
languages alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import yaml

from streams.models import RawItem
from streams.offline import run_offline
from streams.settings import Settings
from streams.signals.matcher import Matcher
from streams.signals.watchlist import load_watchlist
from streams.sources.samplefeed import signal_reports
from tests.integration.conftest import read_topic
from tests.integration.test_pipeline import run_pipeline

pytestmark = pytest.mark.integration

SIGNAL = "belarus-men-crossing-eu"
T0 = datetime(2026, 6, 1, 10, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def watchlist_file(tmp_path: Path) -> Path:
    data = yaml.safe_load((ROOT / "streams" / "data" / "watchlist.yaml").read_text())
    data["detectors"] = [{"kind": "threshold", "count": 5, "realert": {"cooldown": "6h"}}]
    path = tmp_path / "watchlist.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def storm() -> list[dict[str, object]]:
    """One wire story carried by twelve outlets: datelines, footers, new urls and ids."""
    [wire] = signal_reports(11, SIGNAL, "Baltics", [T0])
    copies = []
    for i in range(12):
        body = str(wire["body"])
        if i % 3 == 1:
            body = f"VILNIUS (Wire) - {body}"
        elif i % 3 == 2:
            body = f"{body} Reporting by the wire desk."
        copies.append(
            {
                **wire,
                "id": f"storm-{i}",
                "body": body,
                "publisher": f"Outlet {i}",
                "url": f"https://outlet{i}.example/story",
                "published_at": at(5 + 3 * i),
            }
        )
    return copies


def independent() -> list[dict[str, object]]:
    times = [T0 + timedelta(minutes=5 + 3 * i) for i in range(12)]
    return signal_reports(12, SIGNAL, "Eastern Europe", times)


def multilingual(watchlist: Path) -> list[dict[str, object]]:
    """Reports of the signal in six languages from the corpus, moved into one hour."""
    matcher = Matcher(load_watchlist(watchlist))
    corpus = [
        orjson.loads(line)
        for line in (ROOT / "tests/data/signal_corpus.jsonl").read_bytes().splitlines()
    ]
    chosen: dict[str, list[dict[str, object]]] = {}
    for item in corpus:
        if SIGNAL in item["labels"] and item["language"] in ("ru", "be", "uk", "pl", "lt", "lv"):
            moved = {**item, "region": "Western Europe", "published_at": at(5)}
            if any(m.signal_id == SIGNAL for m in matcher.match(RawItem.model_validate(moved))):
                chosen.setdefault(str(item["language"]), []).append(moved)
    picked = [items[0] for items in chosen.values()] + [items[1] for items in chosen.values()]
    return [{**item, "published_at": at(5 + 4 * i)} for i, item in enumerate(picked)]


def test_a_syndicated_story_counts_once_and_independent_or_multilingual_reports_alert(
    settings: Settings, worker_factory, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"watchlist": watchlist_file(tmp_path)})
    many_languages = multilingual(settings.watchlist)
    assert len({i["language"] for i in many_languages}) == 6
    # Event time is the second most advanced outlet's: two outlets move it on.
    ticks = [
        {"id": f"tick-{o}", "title": "Weather", "publisher": o, "published_at": at(24 * 60)}
        for o in ("Met Desk", "Weather Wire")
    ]
    items = sorted(
        [*storm(), *independent(), *many_languages, *ticks], key=lambda i: str(i["published_at"])
    )
    lines = [orjson.dumps(i) for i in items]
    expected = run_offline(lines, settings)
    assert {a.key for a in expected.alerts} == {
        f"{SIGNAL}|eastern-europe",
        f"{SIGNAL}|western-europe",
    }

    _, metrics = run_pipeline(settings, worker_factory, lines, len(expected.alerts))
    assert metrics[f'watchfloor_syndicated_copies_total{{signal="{SIGNAL}"}}'] == 11
    # The storm's story once, every independent and every multilingual report.
    counted = metrics[f'watchfloor_hits_counted_total{{signal="{SIGNAL}"}}']
    assert counted == 1 + 12 + len(many_languages)
    alerts = [json.loads(v) for _, v in read_topic(settings, settings.topic_alerts)]
    assert sorted(a["alert_id"] for a in alerts) == sorted(a.alert_id for a in expected.alerts)
    by_key: dict[str, list[dict]] = {}
    for alert in alerts:
        by_key.setdefault(alert["key"], []).append(alert)
    assert set(by_key) == {a.key for a in expected.alerts}  # no alert for the Baltic storm
    # Alerts go out as the reports cross (early), then as they rise: none counts a copy.
    independent_alerts = by_key[f"{SIGNAL}|eastern-europe"]
    assert all(a["copies"] == 0 for a in independent_alerts)
    surge = by_key[f"{SIGNAL}|western-europe"]
    assert all(e["sentence"] for a in surge for e in a["evidence"])
    assert max(a["publishers"] for a in surge) == max(a["count"] for a in surge)
