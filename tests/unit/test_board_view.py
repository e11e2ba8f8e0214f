"""What the board keeps and shows, fed records by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streams.board import BoardView
from streams.detect.detectors import Significance, Threshold
from streams.models import Alert, SignalHit

T0 = datetime(2026, 6, 1, tzinfo=UTC)
H = 3600.0


def hit(item: str, at: datetime, key: str = "s|r") -> SignalHit:
    return SignalHit(
        key=key, signal_id=key.split("|")[0], region=key.split("|")[1], item_id=item,
        title=item, published_at=at, matched_terms=["t"], ingested_at=at, watermark=at,
        watchlist_version="v",
    )  # fmt: skip


def alert(n: int, key: str = "s|r", severity: str = "warning") -> Alert:
    end = T0 + timedelta(hours=n + 1)
    return Alert.model_validate(
        {
            "alert_id": f"a{n}-{key}", "burst_id": "b", "update": "opened",
            "signal_id": key.split("|")[0], "key": key, "region": key.split("|")[1],
            "scale": "1h", "window_start": end - timedelta(hours=1), "window_end": end,
            "count": 9, "baseline": 1.0, "score": 3.0, "severity": severity, "publishers": 3,
            "detector": {"name": "threshold", "kind": "threshold", "params": {}},
            "evidence": [], "generated_at": end, "watchlist_version": "v",
        }
    )  # fmt: skip


def view(**kw: int) -> BoardView:
    return BoardView(H, lambda key: [Significance(), Threshold(count=5)], **kw)


def test_alerts_come_newest_first_once_each_and_filter_by_signal_region_severity() -> None:
    board = view()
    for a in (alert(1), alert(3, "s|q", "critical"), alert(2, "t|r"), alert(1)):
        board.add_alert(a)
    assert [a["alert_id"] for a in board.alerts()] == ["a3-s|q", "a2-t|r", "a1-s|r"]
    assert [a["key"] for a in board.alerts(signal="s")] == ["s|q", "s|r"]
    assert [a["key"] for a in board.alerts(region="r", severity="warning")] == ["t|r", "s|r"]
    assert board.alerts(limit=1)[0]["alert_id"] == "a3-s|q"
    assert board.facets() == {
        "signals": ["s", "t"],
        "regions": ["q", "r"],
        "severities": ["warning", "critical"],
    }
    many = view(most_alerts=2)
    for n in range(5):
        many.add_alert(alert(n))
    assert [a["alert_id"] for a in many.alerts()] == ["a4-s|r", "a3-s|r"]


def test_a_keys_series_counts_each_item_once_with_the_expected_count_and_its_alerts() -> None:
    board = view()
    version = board.version
    for i in range(48):
        board.add_hit(hit(f"i{i}", T0 + timedelta(hours=i, minutes=5)))
    board.add_hit(hit("i3", T0 + timedelta(hours=3, minutes=5)))  # delivered again
    for j in range(6):
        board.add_hit(hit(f"burst{j}", T0 + timedelta(hours=40, minutes=j)))
    board.add_alert(alert(40))
    assert board.version > version
    series = board.series("s|r")
    assert series is not None
    assert series["starts"][0] == T0.timestamp() and len(series["starts"]) == 48
    assert series["counts"][3] == 1 and series["counts"][40] == 7
    # Significance learned one report an hour before the burst.
    assert abs(series["baselines"][39] - 1.0) < 0.3
    assert [a["alert_id"] for a in series["alerts"]] == ["a40-s|r"]
    assert board.series("nobody|here") is None
    assert board.keys() == ["s|r"]


def test_old_buckets_and_keys_past_the_bounds_are_not_kept() -> None:
    board = view(keep_buckets=10, most_keys=1)
    for i in range(30):
        board.add_hit(hit(f"i{i}", T0 + timedelta(hours=i)))
    board.add_hit(hit("other", T0, key="t|r"))
    series = board.series("s|r")
    assert series is not None and len(series["starts"]) == 10
    assert board.series("t|r") is None
