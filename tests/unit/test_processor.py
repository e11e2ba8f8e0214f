"""The detect processor wakes a key only when a watermark alone can change what it says."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from aiokafka.partitioner import murmur2
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.detect.detectors import Seasonal, Threshold
from streams.detect.engine import Advanced, DetectConfig, Detection
from streams.detect.key_cap import KeyCap
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
    assert result.trimmed == {b"s|r"}
    assert len(store[b"s|r"]) <= 16 * 1024
    assert KeyState.loads(store[b"s|r"]).buckets[T0].count == 40


def capped(max_keys: int, partitions: int = 1) -> DetectProcessor:
    def partition_of(key: bytes) -> int:
        return (murmur2(key) & 0x7FFFFFFF) % partitions

    return DetectProcessor(
        detection({"s": [Threshold(count=2)]}),
        {},
        OpenKeys(partition_of),
        "v",
        key_cap=KeyCap(max_keys, partitions, partition_of),
    )


def test_keys_beyond_the_cap_count_under_the_signals_other_key() -> None:
    processor = capped(max_keys=3)
    regions = ["a", "b", "c", "d", "e", "d"]
    hits = [hit(f"h{n}", T0 + n * 60, key=f"s|{r}") for n, r in enumerate(regions)]
    result = processor.process([(0, h) for h in hits], NOW)
    processor.commit(result)
    assert sorted(processor.store) == [b"s|a", b"s|b", b"s|c", b"s|other"]
    assert result.folded == {"s": 3} and result.capped == [("s", 0)]
    assert [h.key for h, _ in result.outcomes][3:] == ["s|other"] * 3
    assert {h.region for h, _ in result.outcomes[3:]} == {"other"}
    # Three reports under one key cross the threshold: the overflow alerts like a region.
    alerts = run(processor, [tick(T0 + 2 * H)])
    assert alerts and processor.process([], NOW).capped == []  # reported once


def test_a_key_that_expires_frees_its_place() -> None:
    processor = DetectProcessor(
        detection({"s": [Threshold(count=2)]}, idle_ttl=2 * H),
        {},
        OpenKeys(lambda _key: 0),
        "v",
        key_cap=KeyCap(1, 1, lambda _key: 0),
    )
    run(processor, [hit("a1", T0, key="s|a")])
    run(processor, [tick(T0 + 6 * H)])  # its windows final, then idle past the ttl
    run(processor, [tick(T0 + 9 * H)])
    assert b"s|a" not in processor.store
    run(processor, [hit("b1", T0 + 9 * H, key="s|b")])
    assert b"s|b" in processor.store and b"s|other" not in processor.store


@given(partitions=st.integers(1, 12), signal=st.sampled_from(["s", "belarus-men-crossing-eu"]))
def test_each_partitions_other_key_is_one_the_partitioner_puts_there(
    partitions: int, signal: str
) -> None:
    def partition_of(key: bytes) -> int:
        return (murmur2(key) & 0x7FFFFFFF) % partitions

    cap = KeyCap(100, partitions, partition_of)
    others = [cap.other(signal, p) for p in range(partitions)]
    assert [partition_of(o.encode()) for o in others] == list(range(partitions))
    assert others[partition_of(f"{signal}|other".encode())] == f"{signal}|other"
    assert cap.per_partition == -(-100 // partitions)


def test_a_restored_partition_counts_the_keys_it_holds_again() -> None:
    processor = capped(max_keys=2)
    run(processor, [hit("a1", T0, key="s|a"), hit("b1", T0 + 1, key="s|b")])
    again = capped(max_keys=2)
    again.store.update(processor.store)
    assert run(again, [hit("c1", T0 + 2, key="s|c")]) == []
    assert sorted(again.store) == [b"s|a", b"s|b", b"s|other"]
