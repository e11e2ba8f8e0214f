from datetime import UTC, datetime

import pytest

from streams.detect.detector import SignificanceDetector
from streams.detect.engine import DetectConfig, Detection, HitOutcome, alert_id
from streams.detect.state import KeyState
from streams.detect.windows import WindowSpec
from streams.models import SignalHit

H = 3600.0
T0 = 1_780_000_000.0 // H * H  # an hour boundary in 2026
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def hit(item: str, ts: float, publisher: str = "p1", key: str = "s|r") -> SignalHit:
    dt = datetime.fromtimestamp(ts, UTC)
    return SignalHit(
        key=key,
        signal_id=key.split("|")[0],
        region=key.split("|")[1],
        item_id=item,
        title=f"title {item}",
        url=f"https://x.example/{item}",
        publisher=publisher,
        published_at=dt,
        matched_terms=["t"],
        ingested_at=dt,
        watermark=dt,
        watchlist_version="v",
    )


def engine(warmup: int = 0, **kw: float) -> Detection:
    det = SignificanceDetector(half_life=24, threshold=3, beta=1, min_count=3, warmup=warmup)
    return Detection(DetectConfig(window=WindowSpec(H, H, grace=900), detector=det, **kw))


def feed(d: Detection, state: KeyState, hits: list[SignalHit]) -> tuple[list[HitOutcome], list]:
    """Event-at-a-time: watermark = max published_at so far; advance after each hit."""
    outcomes, alerts = [], []
    mark = float("-inf")
    for h in hits:
        mark = max(mark, h.published_at.timestamp())
        outcomes.append(d.add(state, h, mark))
        alerts += d.advance(state, mark, "v", NOW)
    return outcomes, alerts


def test_burst_alerts_once_with_evidence_and_stable_id() -> None:
    d = engine()
    state = d.new_state(hit("x", T0))
    burst = [hit(f"b{i}", T0 + 60 * i, publisher=f"p{i % 3}") for i in range(5)]
    _, alerts = feed(d, state, [*burst, hit("later", T0 + 2 * H)])
    [alert] = alerts
    assert alert.count == 5 and alert.publishers == 3
    assert alert.window_start == datetime.fromtimestamp(T0, UTC)
    assert alert.window_end == datetime.fromtimestamp(T0 + H, UTC)
    assert [e.id for e in alert.evidence] == [f"b{i}" for i in range(5)]
    assert alert.alert_id == alert_id("significance", "s|r", T0, T0 + H)
    assert alert.detector.params["min_count"] == 3
    # Replaying the same hits from scratch gives the same alert id.
    state2 = d.new_state(hit("x", T0))
    _, again = feed(d, state2, [*burst, hit("later", T0 + 2 * H)])
    assert [a.alert_id for a in again] == [alert.alert_id]


def test_window_waits_for_grace_then_closes_exactly_once() -> None:
    d = engine()
    state = d.new_state(hit("x", T0))
    for i in range(4):
        d.add(state, hit(f"b{i}", T0 + i), T0 + i)
    assert d.advance(state, T0 + H + 899, "v", NOW) == []
    assert len(d.advance(state, T0 + H + 900, "v", NOW)) == 1
    assert d.advance(state, T0 + H + 901, "v", NOW) == []
    assert d.advance(state, T0 + 10 * H, "v", NOW) == []


def test_out_of_order_within_grace_counts_and_late_after_grace_does_not() -> None:
    d = engine()
    state = d.new_state(hit("x", T0))
    hits = [
        hit("a", T0 + 100),
        hit("b", T0 + H + 60),  # watermark moves into the next hour
        hit("c", T0 + 200),  # out of order, window still within grace: counted
        hit("d", T0 + H + 950),  # watermark passes T0 + H + 900: first window closes
        hit("e", T0 + 300),  # too late
    ]
    outcomes, _ = feed(d, state, hits)
    assert outcomes == [HitOutcome.COUNTED] * 4 + [HitOutcome.LATE]
    assert state.closed_through == T0


def test_duplicate_item_ids_count_once_within_horizon() -> None:
    d = engine(dedup_horizon=2 * H)
    state = d.new_state(hit("x", T0))
    outcomes, _ = feed(d, state, [hit("a", T0), hit("a", T0 + 10), hit("b", T0 + 5 * H)])
    assert outcomes == [HitOutcome.COUNTED, HitOutcome.DUPLICATE, HitOutcome.COUNTED]
    # Past the horizon the id is forgotten, so state stays bounded.
    assert "a" not in state.seen


def test_empty_windows_feed_the_baseline() -> None:
    d = engine()
    state = d.new_state(hit("x", T0))
    feed(d, state, [hit("a", T0), hit("b", T0 + 10 * H)])
    # windows T0 .. T0+8H closed: one with a count, eight empty ones
    assert state.detector["n"] == 9
    assert state.closed_through == T0 + 8 * H


def test_busy_key_does_not_alert_on_ordinary_volume_after_warmup() -> None:
    d = engine(warmup=24)
    state = d.new_state(hit("x", T0))
    hits = [hit(f"i{h}-{k}", T0 + h * H + k * 60) for h in range(72) for k in range(4)]
    _, alerts = feed(d, state, hits)
    assert alerts == []


def test_hopping_windows_count_an_event_in_each_window() -> None:
    det = SignificanceDetector(warmup=0, min_count=1, threshold=0.1)
    d = Detection(DetectConfig(window=WindowSpec(3 * H, H), detector=det))
    state = d.new_state(hit("x", T0))
    d.add(state, hit("a", T0 + 2 * H + 1), T0 + 2 * H + 1)
    assert sorted(state.windows) == [T0, T0 + H, T0 + 2 * H]


def test_state_round_trips_through_bytes() -> None:
    d = engine()
    state = d.new_state(hit("x", T0))
    feed(d, state, [hit("a", T0, "p"), hit("b", T0 + 2 * H, "q")])
    again = KeyState.loads(state.dumps())
    assert again == state


def test_idle_key_expires_only_after_ttl_with_no_open_windows() -> None:
    d = engine(idle_ttl=24 * H)
    state = d.new_state(hit("x", T0))
    feed(d, state, [hit("a", T0)])
    assert not d.expired(state)
    d.advance(state, T0 + 25 * H + 1, "v", NOW)
    assert d.expired(state)


def test_unknown_state_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        KeyState.loads(b'{"v": 99}')
