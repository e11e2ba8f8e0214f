"""The detect processor wakes a key only when a watermark alone can change what it says."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.detect.detectors import Seasonal, Threshold
from streams.detect.engine import Advanced, DetectConfig, Detection
from streams.detect.processor import DetectProcessor, OpenKeys
from streams.detect.scales import DEFAULT_SCALES
from streams.detect.state import KeyState
from streams.models import SignalHit, WatermarkTick
from tests.unit.test_engine import NOW, T0, H, detection, hit


class CountingDetection(Detection):
    """Counts the advances of each key."""

    def __init__(self, config: DetectConfig) -> None:
        super().__init__(config)
        self.advanced: Counter[str] = Counter()

    def advance(self, state: KeyState, watermark: float, version: str, now: datetime) -> Advanced:
        self.advanced[state.key] += 1
        return super().advance(state, watermark, version, now)


def tick(ts: float) -> WatermarkTick:
    return WatermarkTick(watermark=datetime.fromtimestamp(ts, UTC))


def seasonal() -> Detection:
    return detection({"s": [Seasonal(cold_count=4, min_count=3)]}, scales=DEFAULT_SCALES)


def run(processor: DetectProcessor, records: list[SignalHit | WatermarkTick]) -> list[str]:
    result = processor.process([(0, r) for r in records], NOW)
    processor.commit(result)
    return [a.alert_id for a in result.alerts]


def test_a_key_too_quiet_to_cross_is_woken_once_its_windows_are_final_then_expires() -> None:
    config = detection(
        {"s": [Seasonal(cold_count=4, min_count=3)]}, scales=DEFAULT_SCALES, idle_ttl=5 * 86400
    ).config
    counting = CountingDetection(config)
    store: dict[bytes, bytes] = {}
    processor = DetectProcessor(counting, store, OpenKeys(lambda _key: 0), "v")
    run(processor, [hit("a", T0 + 60, key="s|quiet"), hit("b", T0 + 120, key="s|busy")])
    run(processor, [hit(f"b{i}", T0 + 180 + i, key="s|busy") for i in range(5)])
    counting.advanced = Counter()  # the ticks' advances alone
    for hour in range(1, 24 * 7):
        run(processor, [tick(T0 + hour * H)])
    # The busy key is advanced at each hour a window of its may cross (for a day and
    # more); the quiet one once its last window is final (36 h), and then to expire.
    assert counting.advanced["s|quiet"] == 2
    assert counting.advanced["s|busy"] > 24
    assert b"s|quiet" not in store and b"s|busy" not in store


def advance_every_key(
    detection: Detection, batches: list[list[SignalHit | WatermarkTick]]
) -> list[tuple[str, str]]:
    """The reference the processor must match: every key advanced at the end of every
    batch, as far as its watermark."""
    states: dict[str, KeyState] = {}
    alerts = []
    mark = float("-inf")
    for records in batches:
        for record in records:
            mark = max(mark, record.watermark.timestamp())
            if isinstance(record, SignalHit):
                state = states.setdefault(record.key, detection.new_state(record))
                alerts += detection.apply(state, record, mark, "v", NOW)[1].alerts
        for state in states.values():
            alerts += detection.advance(state, mark, "v", NOW).alerts
    return sorted((a.alert_id, a.model_dump_json(exclude={"generated_at"})) for a in alerts)


# Per key, bursts of reports: (key, first hour, reports, minutes between them).
bursts = st.lists(
    st.tuples(
        st.sampled_from(["s|a", "s|b", "s|c"]),
        st.integers(0, 96),
        st.integers(1, 12),
        st.integers(1, 90),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(bursts=bursts, batch=st.integers(1, 40))
def test_waking_keys_only_when_due_gives_what_advancing_every_key_gives(
    bursts: list[tuple[str, int, int, int]], batch: int
) -> None:
    hits = sorted(
        (
            hit(f"{key}-{n}-{i}", T0 + first * H + i * gap * 60, key=key)
            for n, (key, first, reports, gap) in enumerate(bursts)
            for i in range(reports)
        ),
        key=lambda h: h.published_at,
    )
    end = hits[-1].published_at.timestamp()
    ticks = [tick(T0 + hour * H) for hour in range(1, int((end - T0) / H) + 48)]
    records: list[SignalHit | WatermarkTick] = sorted([*hits, *ticks], key=lambda r: r.watermark)
    batches = [records[i : i + batch] for i in range(0, len(records), batch)]
    processor = DetectProcessor(seasonal(), {}, OpenKeys(lambda _key: 0), "v")
    alerts = []
    for records in batches:
        result = processor.process([(0, r) for r in records], NOW)
        processor.commit(result)
        alerts += result.alerts
    got = sorted((a.alert_id, a.model_dump_json(exclude={"generated_at"})) for a in alerts)
    assert got == advance_every_key(seasonal(), batches)


def test_a_threshold_key_is_woken_for_the_window_that_crosses() -> None:
    processor = DetectProcessor(
        detection({"s": [Threshold(count=3)]}), {}, OpenKeys(lambda _key: 0), "v"
    )
    hits = [hit(f"h{i}", T0 + 10 * H + i * 60) for i in range(3)]
    assert run(processor, [*hits]) == []
    alerts = run(processor, [tick(T0 + 12 * H)])
    assert len(alerts) == 1


def test_an_entry_over_the_bound_is_written_trimmed_and_reported() -> None:
    store: dict[bytes, bytes] = {}
    processor = DetectProcessor(
        detection({"s": [Threshold(count=1000)]}),
        store,
        OpenKeys(lambda _key: 0),
        "v",
        max_bytes=16 * 1024,
    )
    hits = [hit(f"{n:03d}".ljust(200, "x"), T0 + n * 60) for n in range(40)]
    result = processor.process([(0, h) for h in hits], NOW)
    processor.commit(result)
    assert result.trimmed == {b"s|r": ("evidence",)}
    assert len(store[b"s|r"]) <= 16 * 1024
    assert KeyState.loads(store[b"s|r"]).buckets[T0].count == 40
