"""The ingest core: raw records to hits, dead letters and ticks, whatever the batching."""

import itertools
import time

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.signals.ingest import IngestProcessor
from streams.signals.matcher import Matcher
from streams.signals.watchlist import load_watchlist
from streams.sources.samplefeed import generate

MATCHER = Matcher(load_watchlist())
NOW = time.time()
ITEMS = sorted(generate(), key=lambda i: str(i["published_at"]))[:1500]


def core() -> IngestProcessor:
    return IngestProcessor(MATCHER, outlets=2, max_ahead=3600.0)


def test_a_batch_gives_hits_dead_letters_and_one_tick_per_source() -> None:
    records = [
        (1, b"{not json", NOW),
        (0, orjson.dumps(ITEMS[0]), NOW),
        (1, orjson.dumps(ITEMS[1]), NOW),
        (0, b"[]", NOW),
    ]
    done = core().process(records)
    assert [(n, r.reason) for n, r in done.rejected] == [(0, "invalid_json"), (3, "not_an_object")]
    assert done.items == 2
    assert [t.source for t in done.ticks] == [0, 1]


def test_hits_carry_their_source_and_its_event_time_then() -> None:
    ingest = core()
    lines = [(n % 2, orjson.dumps(item), NOW) for n, item in enumerate(ITEMS)]
    done = ingest.process(lines)
    assert done.hits, "the sample feed's first items must hold signal hits"
    for hit in done.hits:
        assert hit.watermark.timestamp() <= ingest.mark(hit.source)
    assert {t.source: t.watermark.timestamp() for t in done.ticks} == {
        0: ingest.mark(0),
        1: ingest.mark(1),
    }


@settings(max_examples=10, deadline=None)
@given(cuts=st.lists(st.integers(1, len(ITEMS) - 1), max_size=12))
def test_batching_changes_no_hit(cuts: list[int]) -> None:
    """Event time rides on each hit as of its item: batches of any size give the hits
    (with their watermarks) one item at a time gives."""
    lines = [(n % 3, orjson.dumps(item), NOW) for n, item in enumerate(ITEMS)]
    one = core()
    singly = [h for line in lines for h in one.process([line]).hits]
    assert singly
    batched, ingest = [], core()
    bounds = [0, *sorted(set(cuts)), len(lines)]
    for lo, hi in itertools.pairwise(bounds):
        batched += ingest.process(lines[lo:hi]).hits
    assert [h.model_dump() for h in batched] == [h.model_dump() for h in singly]
