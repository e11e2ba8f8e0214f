import tracemalloc
from datetime import UTC, datetime
from hashlib import sha512
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.detect.bursts import Burst
from streams.detect.detectors import DetectorBase, Flatline, Significance, Threshold
from streams.detect.engine import (
    DetectConfig,
    Detection,
    HitOutcome,
    SignalPlan,
    burst_id,
    update_id,
)
from streams.detect.realert import Realert
from streams.detect.scales import ScaleSpec, scales_from
from streams.detect.state import DetectorEntry, KeyState, Mark, Story
from streams.detect.suite import DetectorSuite
from streams.models import SignalHit

H = 3600.0
T0 = 1_780_000_000.0 // H * H  # an hour boundary in 2026
NOW = datetime(2026, 11, 1, tzinfo=UTC)
# Judged at the close: early judging has its own tests (test_scales.py).
HOURLY = (ScaleSpec(size=H, early=False),)


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
    det = Significance(half_life=24, threshold=3, beta=1, min_count=3, warmup=warmup)
    return detection({"s": [det]}, **kw)


def detection(
    per_signal: dict[str, list[DetectorBase]],
    scales: tuple[ScaleSpec, ...] = HOURLY,
    grace: float = 900.0,
    quiet: float = 6 * H,
    lateness: float | None = None,
    **kw: float,
) -> Detection:
    if lateness is not None:
        scales = tuple(s.model_copy(update={"lateness": lateness}) for s in scales)
    built = scales_from(scales, grace)

    def plan(dets: list[DetectorBase]) -> SignalPlan:
        suite = DetectorSuite(dets, built[0].size)
        return SignalPlan.of(suite, built, burst_quiet=quiet)

    plans = {sid: plan(dets) for sid, dets in per_signal.items()}
    return Detection(DetectConfig(plans=plans, default=plan([Significance()]), **kw))  # type: ignore[arg-type]


def closed(d: Detection, state: KeyState, mark: float) -> list:
    return d.advance(state, mark, "v", NOW).alerts


def feed(d: Detection, state: KeyState, hits: list[SignalHit]) -> tuple[list[HitOutcome], list]:
    """Event-at-a-time: watermark = max published_at so far; each hit applied."""
    outcomes, alerts = [], []
    mark = float("-inf")
    for h in hits:
        mark = max(mark, h.published_at.timestamp())
        outcome, advanced = d.apply(state, h, mark, "v", NOW)
        outcomes.append(outcome)
        alerts += advanced.alerts
    alerts += closed(d, state, mark)
    return outcomes, alerts


def test_burst_alerts_once_with_evidence_and_stable_id() -> None:
    d = engine()
    state = d.new_state(hit("x", T0))
    burst = [hit(f"b{i}", T0 + 60 * i, publisher=f"p{i % 3}") for i in range(5)]
    _, alerts = feed(d, state, [*burst, hit("later", T0 + 2 * H)])
    [alert] = alerts
    assert (alert.update, alert.burst_id, alert.scale) == (
        "opened",
        burst_id("s|r", T0 + H, 6 * H),
        "1h",
    )
    assert alert.count == 5 and alert.publishers == 3 and alert.counts == {"1h": 5}
    assert alert.first_report is not None and alert.first_report.id == "b0"
    assert alert.latest_report is not None and alert.latest_report.id == "b4"
    assert not alert.late
    assert alert.window_start == datetime.fromtimestamp(T0, UTC)
    assert alert.window_end == datetime.fromtimestamp(T0 + H, UTC)
    assert [e.id for e in alert.evidence] == [f"b{i}" for i in range(5)]
    assert alert.alert_id == update_id(alert.burst_id, "scale", "1h")
    assert alert.detector.params["min_count"] == 3
    # Replaying the same hits from scratch gives the same alert id.
    state2 = d.new_state(hit("x", T0))
    _, again = feed(d, state2, [*burst, hit("later", T0 + 2 * H)])
    assert [a.alert_id for a in again] == [alert.alert_id]


def test_window_waits_for_grace_then_closes_exactly_once() -> None:
    d = engine()
    state = d.new_state(hit("x", T0))
    for i in range(4):
        closed(d, state, T0 + i)
        d.add(state, hit(f"b{i}", T0 + i), T0 + i)
    assert closed(d, state, T0 + H + 899) == []
    assert len(closed(d, state, T0 + H + 900)) == 1
    assert closed(d, state, T0 + H + 901) == []
    assert closed(d, state, T0 + 10 * H) == []


def test_out_of_order_within_grace_counts_and_late_after_grace_does_not() -> None:
    d = engine(lateness=0)
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
    assert state.scales["1h"].judged == T0


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
    # windows T0 .. T0+8H judged: one with a count, eight empty ones
    scale = state.scales["1h"]
    assert scale.detectors["significance"].provisional["n"] == 9
    assert scale.judged == T0 + 8 * H
    # ... and learned into the final state once no late report can change them (4h)
    assert scale.final == T0 + 5 * H and scale.detectors["significance"].final["n"] == 6


def test_busy_key_does_not_alert_on_ordinary_volume_after_warmup() -> None:
    d = engine(warmup=24)
    state = d.new_state(hit("x", T0))
    hits = [hit(f"i{h}-{k}", T0 + h * H + k * 60) for h in range(72) for k in range(4)]
    _, alerts = feed(d, state, hits)
    assert alerts == []


def test_hopping_windows_count_an_event_in_each_window() -> None:
    det = Significance(warmup=0, min_count=1, threshold=0.1)
    d = detection({"s": [det]}, scales=(ScaleSpec(size=3 * H, step=H),))
    state = d.new_state(hit("x", T0))
    d.add(state, hit("a", T0 + 2 * H + 1), T0 + 2 * H + 1)
    assert list(state.buckets) == [T0 + 2 * H]  # counted once, read by every window
    closed(d, state, T0 + 6 * H)
    assert state.scales["3h"].detectors["significance"].provisional["n"] == 3


def test_state_round_trips_through_bytes() -> None:
    d = engine()
    state = d.new_state(hit("x", T0))
    feed(d, state, [hit("a", T0, "p"), hit("b", T0 + 2 * H, "q")])
    again = KeyState.loads(state.dumps())
    assert again == state


def test_an_entry_holds_no_more_memory_than_its_bytes() -> None:
    """Entries live as long as their keys: 100,000 keys of 1.5 KB must not hold 16 KB each."""
    d = engine()
    state = d.new_state(hit("x", T0))
    feed(d, state, [hit(f"a{i}", T0 + i * 60, f"p{i}") for i in range(8)])
    size = len(state.dumps())
    tracemalloc.start()
    try:
        entries = [state.dumps() for _ in range(100)]
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(entries) == 100 and held < 100 * (size + 200)


def test_a_stored_entry_loads_into_typed_state_and_is_written_back_byte_for_byte() -> None:
    """The changelog's entries outlive the code: ``keystate-v3.json`` was written before
    the state became typed, by two detectors over three scales with near-duplicates, in
    a burst whose windows are not final yet."""
    stored = (Path(__file__).parents[1] / "data" / "keystate-v3.json").read_bytes()
    state = KeyState.loads(stored)
    assert state.dumps() == stored
    entries = [e for sc in state.scales.values() for e in sc.detectors.values()]
    assert entries and all(isinstance(e, DetectorEntry) for e in entries)
    assert any(e.provisional is None and e.final is not None for e in entries)
    assert state.stories and all(isinstance(s, Story) for s in state.stories)
    marks = [m for sc in state.scales.values() for m in sc.crossed]
    assert marks and all(isinstance(m, Mark) for m in marks)
    assert isinstance(state.burst, Burst) and state.burst.scales


def test_idle_key_expires_only_after_ttl_with_no_open_windows() -> None:
    d = engine(idle_ttl=24 * H)
    state = d.new_state(hit("x", T0))
    feed(d, state, [hit("a", T0)])
    assert not d.expired(state)
    closed(d, state, T0 + 25 * H + 1)
    assert d.expired(state)


def test_unknown_state_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        KeyState.loads(b'{"v": 99}')


def test_each_signal_runs_its_own_detectors() -> None:
    d = detection({"a": [Threshold(count=2)], "b": [Threshold(count=3, name="three")]})
    got = {}
    for key in ("a|r", "b|r"):
        state = d.new_state(hit("x", T0, key=key))
        _, alerts = feed(
            d,
            state,
            [hit("1", T0, key=key), hit("2", T0 + 1, key=key), hit("z", T0 + 2 * H, key=key)],
        )
        got[key] = [(a.detector.name, a.detector.kind) for a in alerts]
    assert got == {"a|r": [("threshold", "threshold")], "b|r": []}


def test_silence_alerts_through_empty_windows_and_keeps_the_key_advancing() -> None:
    d = detection({"s": [Flatline(windows=3)]})
    state = d.new_state(hit("x", T0))
    feed(d, state, [hit("a", T0)])
    assert closed(d, state, T0 + 2 * H) == []
    # No open window, yet silence may still alert: the next window's judging wakes it.
    assert state.wake == state.due < T0 + 3 * H
    [alert] = closed(d, state, T0 + 5 * H)
    assert (alert.window_start, alert.count, alert.evidence) == (
        datetime.fromtimestamp(T0 + 3 * H, UTC),
        0,
        [],
    )
    assert alert.severity == "warning"


def test_realert_cooldown_holds_back_repeats_and_survives_a_restart() -> None:
    det = Threshold(count=1, realert=Realert(cooldown=3 * H))
    d = detection({"s": [det]})
    state = d.new_state(hit("x", T0))
    hits = [hit(f"i{h}", T0 + h * H) for h in range(8)]
    alerts = []
    for h in hits:
        mark = h.published_at.timestamp()
        alerts += closed(d, state, mark)
        d.add(state, h, mark)
        state = KeyState.loads(state.dumps())  # every batch restores from the changelog
    alerts += closed(d, state, T0 + 9 * H)
    got = [((a.window_start.timestamp() - T0) / H, a.update) for a in alerts]
    # One burst; window 0 ends at 1H: quiet until 4H, so window 3 (ends 4H) is the first
    # reminder the rule lets out, then window 6.
    assert got == [(0, "opened"), (3, "repeat"), (6, "repeat")]
    assert len({a.burst_id for a in alerts}) == 1


def test_severity_rises_with_strength_and_many_publishers() -> None:
    d = detection({"s": [Threshold(count=3)]})
    state = d.new_state(hit("x", T0))
    burst = [hit(f"b{i}", T0 + i, publisher=f"p{i}") for i in range(6)]
    _, [alert] = feed(d, state, [*burst, hit("z", T0 + 2 * H)])
    assert (alert.publishers, alert.score, alert.severity) == (6, 6.0, "critical")
    state = d.new_state(hit("x", T0))
    one_outlet = [hit(f"b{i}", T0 + i, publisher="same") for i in range(3)]
    _, [alert] = feed(d, state, [*one_outlet, hit("z", T0 + 2 * H)])
    assert alert.severity == "info"


def test_version_one_state_loads_with_fresh_detectors() -> None:
    v1 = (
        b'{"v":1,"key":"s|r","signal_id":"s","region":"r","windows":[[0.0,2,["p"],[]]],'
        b'"closed_through":null,"seen":{},"detector":{"mean":1.0,"var":0.0,"n":3},'
        b'"last_event":0.0,"watermark":null}'
    )
    state = KeyState.loads(v1)
    assert state.scales == {} and state.buckets[0.0].count == 2


def copy(h: SignalHit, item: str, publisher: str, ts: float) -> SignalHit:
    return h.model_copy(
        update={
            "item_id": item,
            "publisher": publisher,
            "published_at": datetime.fromtimestamp(ts, UTC),
        }
    )


FP_A = "ab" * 64
FP_B = "cd" * 64


def test_copies_of_one_report_count_once_and_list_their_outlets() -> None:
    d = engine()
    first = hit("story", T0 + 60, publisher="Wire").model_copy(update={"fingerprint": FP_A})
    state = d.new_state(first)
    copies = [copy(first, f"copy{i}", f"Outlet {i}", T0 + 120 + i) for i in range(5)]
    other = hit("other", T0 + 200, publisher="Local").model_copy(update={"fingerprint": FP_B})
    outcomes, _ = feed(d, state, [first, *copies, other])
    assert outcomes == [HitOutcome.COUNTED, *[HitOutcome.SYNDICATED] * 5, HitOutcome.COUNTED]
    window = state.buckets[T0]
    assert (window.count, window.copies, window.publishers) == (2, 5, ["Wire", "Local"])
    assert {e["id"]: e["outlets"] for e in window.evidence} == {"story": 6, "other": 1}


def test_a_copy_beyond_the_horizon_is_a_new_report_and_zero_turns_it_off() -> None:
    d = engine(near_duplicate_horizon=3600)
    first = hit("story", T0, publisher="Wire").model_copy(update={"fingerprint": FP_A})
    state = d.new_state(first)
    outcomes, _ = feed(d, state, [first, copy(first, "late-copy", "Other", T0 + 2 * H)])
    assert outcomes == [HitOutcome.COUNTED, HitOutcome.COUNTED]
    off = engine(near_duplicate_horizon=0)
    state = off.new_state(first)
    outcomes, _ = feed(off, state, [first, copy(first, "copy", "Other", T0 + 5)])
    assert outcomes == [HitOutcome.COUNTED, HitOutcome.COUNTED] and state.stories == []


def test_copies_are_counted_even_when_the_report_is_not_among_the_kept_evidence() -> None:
    d = engine(evidence_limit=1)
    reports = [
        hit(f"r{i}", T0 + 60 * i, publisher=f"P{i}").model_copy(
            update={"fingerprint": f"{i:02x}" * 64}
        )
        for i in range(3)
    ]
    state = d.new_state(reports[0])
    late_copy = copy(reports[2], "copy-of-r2", "Elsewhere", T0 + 300)
    outcomes, _ = feed(d, state, [*reports, late_copy])
    assert outcomes[-1] is HitOutcome.SYNDICATED
    assert state.buckets[T0].copies == 1 and [e["id"] for e in state.buckets[T0].evidence] == ["r0"]


def test_a_flood_of_distinct_long_ids_on_one_key_keeps_its_entry_small() -> None:
    from streams.detect.engine import SEEN_CAP

    d = engine()
    first = hit("story", T0 + 60).model_copy(update={"fingerprint": FP_A})
    state = d.new_state(first)
    # Copies of one report under 3,000 ids of the longest length the contract allows.
    ids = [f"{n:06d}".ljust(512, "x") for n in range(3_000)]
    flood = [copy(first, item, "p1", T0 + 120) for item in ids]
    outcomes, _ = feed(d, state, [first, *flood])
    assert outcomes == [HitOutcome.COUNTED] + [HitOutcome.SYNDICATED] * len(ids)
    assert list(state.seen) == ids[-SEEN_CAP:]  # the latest delivered are remembered
    assert len(state.dumps()) < 300_000  # a Kafka record holds 1 MB
    again = feed(d, state, [copy(first, ids[-1], "p1", T0 + 130)])[0]
    forgotten = feed(d, state, [copy(first, ids[0], "p1", T0 + 130)])[0]
    assert (again, forgotten) == ([HitOutcome.DUPLICATE], [HitOutcome.SYNDICATED])


def test_a_gap_longer_than_a_key_lives_idle_restarts_it_instead_of_stepping_through() -> None:
    from streams.detect.detectors import Seasonal

    d = detection({"s": [Seasonal()]}, idle_ttl=30 * 86400)
    state = d.new_state(hit("ancient", 0.0))
    d.add(state, hit("ancient", 0.0), 0.0)  # a mis-dated first item: 1970
    closed(d, state, T0 + 2 * H)  # then the present: 56 years of hourly windows later
    # Not one of those ~490,000 empty windows was observed: the detector starts afresh.
    scale = state.scales["1h"]
    assert scale.judged == T0 and scale.detectors["seasonal"].final["n"] == 0


def busy_hour(hour: int) -> list[SignalHit]:
    """20 reports in an hour, each its own story, with long ids and text."""
    return [
        hit(f"{hour:02d}-{n:02d}".ljust(300, "x"), T0 + hour * H + n * 60, f"p{n}").model_copy(
            update={
                "fingerprint": sha512(b"%d" % (hour * 100 + n)).hexdigest(),
                "sentence": "s" * 300,
            }
        )
        for n in range(20)
    ]


def busy_key() -> tuple[Detection, KeyState]:
    """A key at its largest: 20 reports an hour for 12 hours, all still within their
    windows and horizons."""
    d = engine(near_duplicate_horizon=48 * H)
    hits = [h for hour in range(12) for h in busy_hour(hour)]
    state = d.new_state(hits[0])
    for h in hits:
        d.apply(state, h, h.published_at.timestamp(), "v", NOW)
    return d, state


@settings(max_examples=25, deadline=None)
@given(max_bytes=st.integers(8 * 1024, 400 * 1024))
def test_a_bounded_entry_sheds_evidence_alone_and_keeps_the_earliest(max_bytes: int) -> None:
    _, state = busy_key()
    full = len(state.dumps())
    counts = {start: b.count for start, b in state.buckets.items()}
    first = {start: b.evidence[0]["id"] for start, b in state.buckets.items()}
    stories, seen = list(state.stories), dict(state.seen)
    data, cut = state.bounded(max_bytes)
    least = max(len(b.evidence) for b in state.buckets.values()) == 1
    assert len(data) <= max_bytes or least
    assert cut == (full > max_bytes)
    restored = KeyState.loads(data)
    assert restored == state
    assert {start: b.count for start, b in restored.buckets.items()} == counts
    assert {start: b.evidence[0]["id"] for start, b in restored.buckets.items()} == first
    # What decides counting is never cut: it would make alerts depend on write times.
    assert restored.stories == stories and restored.seen == seen


def test_an_entry_over_the_bound_with_one_evidence_item_an_hour_is_written_whole() -> None:
    _, state = busy_key()
    data, cut = state.bounded(1)
    assert cut and all(len(b.evidence) == 1 for b in state.buckets.values())
    assert len(state.stories) == len(state.seen) == 240
    assert data == state.dumps()


def test_a_key_cut_once_is_cut_again_at_its_next_write_in_one_encoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    d, state = busy_key()
    bound = 320 * 1024  # fewer evidence items suffice
    assert state.bounded(bound)[1]
    cap = state.evidence_cap
    assert cap is not None and cap < 20
    for h in busy_hour(12):  # a new hour, its reports kept as evidence up to the limit
        d.apply(state, h, h.published_at.timestamp(), "v", NOW)
    encodings = []
    encode = KeyState._encode
    monkeypatch.setattr(KeyState, "_encode", lambda ks: encodings.append(1) or encode(ks))
    data, cut = state.bounded(bound)
    assert len(encodings) == 1 and len(data) <= bound and cut
    assert max(len(b.evidence) for b in state.buckets.values()) <= cap
