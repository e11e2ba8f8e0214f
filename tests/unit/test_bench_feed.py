"""The throughput bench's feed: never dated past the day it runs, the same feed every day."""

from datetime import UTC, datetime, timedelta

import orjson

from bench.pipeline import feed_records


def _published(records: list[tuple[bytes, bytes]]) -> list[datetime]:
    return [
        datetime.fromisoformat(str(orjson.loads(v)["published_at"]).replace("Z", "+00:00"))
        for _, v in records
    ]


def test_a_large_feed_ends_before_the_day_it_runs() -> None:
    today = datetime(2026, 12, 3, tzinfo=UTC)
    records = feed_records(60_000, today)
    assert len(records) == 60_000
    assert max(_published(records)) < today


def test_the_feed_is_the_same_on_other_days_moved_by_whole_weeks() -> None:
    # Thirty thousand items run about 200 days from the sample feed's May start: past
    # both days, so both feeds are moved back.
    day = datetime(2026, 9, 7, tzinfo=UTC)
    a = feed_records(30_000, day)
    b = feed_records(30_000, day + timedelta(weeks=5, days=3))
    assert [k for k, _ in a] == [k for k, _ in b]
    [shift] = {y - x for x, y in zip(_published(a), _published(b), strict=True)}
    assert shift > timedelta(0) and shift % timedelta(weeks=1) == timedelta(0)
