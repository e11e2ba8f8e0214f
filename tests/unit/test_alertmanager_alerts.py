"""Alerts as Alertmanager alerts: labels that make a burst one alert, and the back-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streams.alertmanager import ALERTNAME, Backoff, to_alertmanager
from streams.models import Alert

T0 = datetime(2026, 5, 25, 6, tzinfo=UTC)
NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


def alert(update: str = "opened", severity: str = "warning", scale: str = "1h") -> Alert:
    evidence = [
        {
            "id": f"i{n}",
            "title": f"Belarusian men cross into Poland, report {n}",
            "url": f"https://border.example/{n}" if n != 1 else None,
            "source": "Border Desk" if n != 2 else None,
            "published_at": T0 + timedelta(minutes=n),
            "matched_terms": ["belarusian", "men", "cross"],
        }
        for n in range(5)
    ]
    return Alert.model_validate(
        {
            "alert_id": f"a-{update}-{severity}", "burst_id": "b1", "update": update,
            "signal_id": "belarus-men-crossing-eu", "key": "belarus-men-crossing-eu|eastern-europe",
            "region": "eastern-europe", "scale": scale, "window_start": T0,
            "window_end": T0 + timedelta(hours=1), "count": 12, "baseline": 1.25, "score": 4.5,
            "severity": severity, "publishers": 7,
            "detector": {"name": "seasonal", "kind": "seasonal", "params": {}},
            "evidence": evidence, "generated_at": NOW, "watchlist_version": "2026.11.3",
        }
    )  # fmt: skip


def test_an_alert_carries_its_key_severity_and_burst_as_labels_and_evidence_as_text() -> None:
    posted = to_alertmanager(alert(), resolve_after=6 * 3600)
    assert posted["labels"] == {
        "alertname": ALERTNAME,
        "signal": "belarus-men-crossing-eu",
        "region": "eastern-europe",
        "severity": "warning",
        "detector": "seasonal",
        "burst_id": "b1",
    }
    notes = posted["annotations"]
    assert notes["summary"] == (
        "belarus-men-crossing-eu in eastern-europe: 12 reports in 1h (expected 1.2, 7 publishers)"
    )
    lines = notes["evidence"].splitlines()
    assert lines == [
        "- Belarusian men cross into Poland, report 0 (Border Desk) https://border.example/0",
        "- Belarusian men cross into Poland, report 1 (Border Desk)",
        "- Belarusian men cross into Poland, report 2 (unknown outlet) https://border.example/2",
    ]
    assert notes["alert_id"] == "a-opened-warning" and notes["update"] == "opened"
    assert posted["startsAt"] == T0.isoformat()
    assert posted["endsAt"] == (NOW + timedelta(hours=6)).isoformat()


def test_updates_of_a_burst_are_one_alertmanager_alert_until_its_severity_rises() -> None:
    opened = to_alertmanager(alert(), 3600)
    scaled = to_alertmanager(alert("scale", scale="6h"), 3600)
    escalated = to_alertmanager(alert("escalation", severity="critical"), 3600)
    assert opened["labels"] == scaled["labels"]
    assert scaled["annotations"]["scale"] == "6h"
    assert escalated["labels"] == {**opened["labels"], "severity": "critical"}


def test_with_the_boards_address_an_alert_links_to_its_keys_chart() -> None:
    posted = to_alertmanager(alert(), 3600, "http://watchfloor.example:6066/board/")
    link = "http://watchfloor.example:6066/board/#key=belarus-men-crossing-eu%7Ceastern-europe"
    assert posted["annotations"]["board"] == link and posted["generatorURL"] == link
    assert "generatorURL" not in to_alertmanager(alert(), 3600)


def test_backoff_doubles_up_to_its_cap_and_starts_again_after_a_success() -> None:
    backoff = Backoff(first=0.5, most=3.0)
    assert [backoff.failed() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.succeeded()
    assert backoff.failed() == 0.5
