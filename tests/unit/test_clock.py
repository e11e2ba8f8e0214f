"""Event time merged over raw partitions: the least live watermark, idle ones skipped."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.detect.clock import SourceClock
from streams.detect.engine import Detection
from streams.detect.processor import DetectProcessor, OpenKeys
from streams.models import SignalHit, WatermarkTick
from streams.offline import run_offline
from streams.pipeline.config import detect_config
from streams.settings import Settings
from streams.signals.hits import item_hits
from streams.signals.matcher import Matcher
from streams.signals.watchlist import load_watchlist
from streams.sources.decode import Rejection, decode_item
from streams.sources.eventtime import EventTime
from streams.sources.samplefeed import generate


def test_the_least_live_source_sets_event_time_and_it_never_moves_back() -> None:
    clock = SourceClock(sources=2, idle_after=60, started=0)
    clock.update(0, 500.0, now=1)
    assert clock.current(now=1) == float("-inf")  # source 1 not heard from yet
    clock.update(1, 200.0, now=2)
    assert clock.current(now=2) == 200.0
    clock.update(1, 900.0, now=3)
    assert clock.current(now=3) == 500.0
    clock.update(0, 100.0, now=4)  # an older tick changes nothing
    assert clock.current(now=4) == 500.0


def test_a_quiet_source_stops_holding_event_time_back_after_idle_after() -> None:
    clock = SourceClock(sources=3, idle_after=60, started=0)
    clock.update(0, 1000.0, now=10)
    assert clock.current(now=30) == float("-inf")
    # Sources 1 and 2 never spoke; 61 s after start they no longer count.
    assert clock.current(now=65) == 1000.0
    clock.update(1, 400.0, now=70)  # a revived source cannot pull event time back
    assert clock.current(now=70) == 1000.0
    # All idle: the furthest source counts, so silence does not freeze the clock.
    assert clock.current(now=500) == 1000.0


def _feed() -> list[bytes]:
    return [orjson.dumps(item) for item in generate()]


FEED = _feed()
SETTINGS = Settings()
WATCHLIST = load_watchlist(None)
MATCHER = Matcher(WATCHLIST)
EXPECTED = sorted(a.alert_id for a in run_offline(FEED, SETTINGS).alerts)


def _per_partition_records(partitions: int) -> list[list[SignalHit | WatermarkTick]]:
    """What ingest sends from each raw partition: hits, then a tick, per item."""
    out: list[list[SignalHit | WatermarkTick]] = [[] for _ in range(partitions)]
    clocks = [EventTime(SETTINGS.watermark_outlets) for _ in range(partitions)]
    for n, value in enumerate(FEED):
        source = n % partitions
        item = decode_item(value, received_at=time.time(), max_ahead=0)
        if isinstance(item, Rejection):
            continue
        mark = clocks[source].observe(item.publisher, item.published_at.timestamp())
        out[source] += item_hits(MATCHER, item, 0.0, mark, source)
        out[source].append(
            WatermarkTick(watermark=datetime.fromtimestamp(mark, UTC), source=source)
        )
    return out


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partitions=st.integers(2, 4), seed=st.integers(0, 2**32), skew=st.sampled_from([1, 20]))
def test_alerts_do_not_depend_on_how_raw_partitions_interleave(
    partitions: int, seed: int, skew: int
) -> None:
    """One partition read days ahead of another must not make the other's reports late."""
    streams = _per_partition_records(partitions)
    processor = DetectProcessor(
        Detection(detect_config(SETTINGS, WATCHLIST)),
        {},
        OpenKeys(lambda _key: 0),
        MATCHER.version,
        sources=partitions,
        idle_after=1e9,
    )
    positions = [0] * partitions
    now = datetime.now(UTC)
    alerts = []
    rng = random.Random(seed)
    while any(p < len(s) for p, s in zip(positions, streams, strict=True)):
        # A batch of up to 500 records from one partition that still has some; with skew,
        # partition 0 is read far more often, so it runs days of event time ahead.
        left = [i for i, s in enumerate(streams) if positions[i] < len(s)]
        source = rng.choices(left, weights=[skew if i == 0 else 1 for i in left])[0]
        size = rng.randint(1, 500)
        chunk = streams[source][positions[source] : positions[source] + size]
        positions[source] += len(chunk)
        result = processor.process([(0, r) for r in chunk], now)
        processor.commit(result)
        alerts += [a.alert_id for a in result.alerts]
    assert sorted(alerts) == EXPECTED
