"""The feed every fault scenario replays: three surges on three keys, and bad records."""

from __future__ import annotations

import heapq
from datetime import timedelta

import orjson

from streams.sources.samplefeed import DEFAULT_SURGE, FeedSpec, Surge, generate

__all__ = ["BAD_RECORDS", "fault_feed"]

BAD_RECORDS = [
    b"this is not json",
    b'{"id": "bad-utf8", "title": "\xff\xfe", "published_at": "2026-05-10T00:00:00Z"}',
    b'{"id": "no-date", "title": "Missing published_at"}',
    b'{"id": "typed", "title": "x", "published_at": "2026-05-10T00:00:00Z", "importance": "hi"}',
    b"[1, 2, 3]",
    # A clock or time-zone error: far ahead of when it reached Kafka.
    b'{"id": "future", "title": "From the future", "published_at": "2099-01-01T00:00:00Z"}',
]
"""Records ingest must dead-letter, one per reason it knows, as they arrive in real life."""

_START = DEFAULT_SURGE.start - timedelta(days=21, hours=6)
_MORE_SURGES = (
    Surge(
        "belarusians-in-russian-formations",
        "Baltics",
        _START + timedelta(days=16, hours=8),
        _START + timedelta(days=16, hours=15),
        50,
    ),
    Surge(
        "union-state-joint-units",
        "Eastern Europe",
        _START + timedelta(days=24, hours=3),
        _START + timedelta(days=24, hours=9),
        50,
    ),
)


def fault_feed(bad_every: int = 500) -> list[bytes]:
    """The sample feed plus two more surges (five alerts on three keys), as JSON lines.

    Several keys spread the alerts over partitions, which is what rebalances move. A bad
    record is placed after every ``bad_every`` good ones.
    """
    feeds = [generate()] + [
        generate(FeedSpec(seed=20 + n, background_per_day=0, surge=surge))
        for n, surge in enumerate(_MORE_SURGES)
    ]
    lines = [orjson.dumps(item) for item in heapq.merge(*feeds, key=_published)]
    for n, bad in enumerate(BAD_RECORDS):
        lines.insert(bad_every * (n + 1), bad)
    return lines


def _published(item: dict[str, object]) -> str:
    return str(item["published_at"])
