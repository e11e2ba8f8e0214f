"""``glance`` vouches for a record only where ``decode_item`` takes it, with the same
publisher and publication time; everything else it leaves to ``decode_item``."""

import json
import sys
from datetime import datetime
from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import StringConstraints, TypeAdapter

from streams.models import RawItem
from streams.signals.text import word_line
from streams.sources.decode import decode_item
from streams.sources.glance import glance
from streams.sources.samplefeed import generate

RECEIVED = 1_780_000_000.0


def _agrees(value: bytes, max_ahead: float = 0.0) -> bool:
    """Asserts glance's answer holds; returns whether it vouched."""
    seen = glance(value, received_at=RECEIVED, max_ahead=max_ahead)
    if seen is None:
        return False
    item = decode_item(value, received_at=RECEIVED, max_ahead=max_ahead)
    assert isinstance(item, RawItem), (value, item)
    assert seen.publisher == item.publisher
    assert seen.published == item.published_at.timestamp()
    text = " ".join(p for p in (item.title, item.deck, item.body) if p)
    assert word_line(seen.text) == word_line(text)
    return True


def test_it_vouches_for_the_sample_feed_as_decode_item_reads_it() -> None:
    records = [json.dumps(item).encode() for item in generate()]
    assert all(_agrees(value) for value in records)


def _mostly(
    usual: st.SearchStrategy[object], *odd: st.SearchStrategy[object]
) -> st.SearchStrategy[object]:
    """``usual`` nine times in ten, else one of ``odd``."""
    return st.integers(0, 9).flatmap(lambda n: usual if n else st.one_of(*odd))


DATES = _mostly(
    st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1), timezones=st.timezones()).map(
        lambda d: d.isoformat()
    ),
    st.datetimes(
        timezones=st.sampled_from([None]) | st.timezones(), allow_imaginary=False
    ).map(lambda d: d.isoformat()),
    st.from_regex(
        r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
        r"([Zz]|[+-][0-9]{2}:?[0-9]{2})?\Z"
    ),
    st.sampled_from(
        [
            "2026-W22-1T00:00:00Z", "2026-06-01T24:00:00Z", "2026-06-01T23:59:60Z",
            "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-06-01T00:00:00",
            "2026-06-01T00:00:00.9999995Z", "2026-02-29T00:00:00Z", "2024-02-29T00:00:00Z",
            "2026-06-01T00:00:00+23:59", "2026-06-01T00:00:00-00:00", "+2026-06-01T00:00:00Z",
        ]
    ),
    st.integers().map(str),
)  # fmt: skip
STRINGS = st.one_of(
    st.text(max_size=12),
    st.sampled_from([" a", "a ", "\u00a0a", "a\u2028", "\u180e", "", " ", "a\\u0007", "é"]),
)
VALUES = st.one_of(STRINGS, st.none(), st.integers(-5, 20), st.floats(), st.lists(STRINGS))
# Mostly what a feed sends, now and then anything.
TEXT = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=12)
PLAIN = TEXT.filter(lambda s: s.strip() == s)


FIELD = _mostly(PLAIN, STRINGS, VALUES)
OPTIONAL = {
    name: FIELD
    for name in ["body", "deck", "region", "category", "url", "publisher", "language", "x"]
} | {
    "importance": _mostly(st.integers(1, 10), VALUES),
    "sources": _mostly(st.lists(PLAIN), VALUES),
}


@given(
    st.fixed_dictionaries({"id": FIELD, "title": FIELD, "published_at": DATES}, optional=OPTIONAL),
    st.sampled_from([0.0, 3600.0]),
)
def test_it_vouches_only_where_decode_item_takes_the_item_alike(
    record: dict[str, object], max_ahead: float
) -> None:
    _agrees(json.dumps(record).encode(), max_ahead)
    _agrees(json.dumps(record, ensure_ascii=False).encode(), max_ahead)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"id":"a","title":"t","published_at":"2026-06-01T00:00:00Z","title":" "}',
        b'{"id":"a","title":"t\\u0007","published_at":"2026-06-01T00:00:00Z"}',
        b'{"id":"a","title":"t\\ud800","published_at":"2026-06-01T00:00:00Z"}',
        b'{"id":"a","title":"t\x7f","published_at":"2026-06-01T00:00:00Z"}',
        b'{"id":"a","title":"t","published_at":"2026-06-01T00:00:00Z"} x',
        b'\xef\xbb\xbf{"id":"a","title":"t","published_at":"2026-06-01T00:00:00Z"}',
        b'{"id":"a","title":"t","published_at":"2026-06-01T00:00:00Z","x":'
        + b"[" * 300
        + b"]" * 300
        + b"}",
        b'{"id":"a","title":"t","published_at":"2026-06-01T00:00:00Z","importance":"5"}',
        b'{"id":"a","title":"t","published_at":"2026-06-01T00:00:00Z","importance":5.0}',
        b'[{"id":"a","title":"t","published_at":"2026-06-01T00:00:00Z"}]',
        b"",
    ],
)
def test_records_it_is_not_sure_of_go_to_decode_item(raw: bytes) -> None:
    _agrees(raw)


def test_whitespace_it_keeps_is_whitespace_the_model_keeps() -> None:
    # RawItem strips what Rust calls whitespace; glance sends a record to decode_item when
    # Python's strip would change a string. Every character Rust strips, Python strips.
    stripped = TypeAdapter(Annotated[str, StringConstraints(strip_whitespace=True)])
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        text = f"a{chr(code)}"
        if stripped.validate_python(text) != text:
            assert text.strip() != text, hex(code)


@given(
    # Years 1 and 9999 glance leaves to decode_item (see _published).
    minute=st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)),
    seconds=st.lists(
        st.integers(0, 99).map("{:02d}".format) | st.text("0123456789x: ", min_size=2, max_size=2),
        min_size=1,
        max_size=6,
    ),
)
def test_dates_of_a_minute_read_before_agree_with_decode_item(
    minute: datetime, seconds: list[str]
) -> None:
    # The first date of a minute is parsed, those after it come from the cache of minutes:
    # each second 00-59 must read as RawItem reads it, anything else must still be refused.
    head = f"{minute.year:04d}-" + minute.strftime("%m-%dT%H:%M:")
    for second in ["00", *seconds, "59", "60", "99", "5x"]:
        value = json.dumps(
            {"id": "cached", "title": "A minute", "published_at": f"{head}{second}Z"}
        ).encode()
        vouched = _agrees(value)
        assert vouched == (second.isdigit() and int(second) < 60), second
