import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.models import RawItem
from streams.sources.decode import Rejection, decode_item

GOOD = b'{"id": "a", "title": "t", "published_at": "2026-05-01T10:00:00+02:00", "extra": [1]}'


def test_valid_item_keeps_unknown_fields() -> None:
    item = decode_item(GOOD)
    assert isinstance(item, RawItem)
    assert item.model_extra == {"extra": [1]}
    assert item.published_at.timestamp() == 1777622400.0


@pytest.mark.parametrize(
    ("value", "reason", "error"),
    [
        (b"", "invalid_json", "empty record"),
        (b"{", "invalid_json", "not JSON"),
        (b'{"id": "\xff"}', "invalid_utf8", "invalid UTF-8 at byte 8"),
        (b"[1]", "not_an_object", "JSON object"),
        (b'{"id": "a", "title": "t"}', "validation_failed", "published_at: Field required"),
        (
            b'{"id": "a", "title": "t", "published_at": "2026-05-01T10:00:00"}',
            "validation_failed",
            "published_at: Input should have timezone info",
        ),
        (
            b'{"id": "a", "title": "t", "published_at": "2026-05-01T10:00:00Z", "importance": 11}',
            "validation_failed",
            "importance: Input should be less than or equal to 10",
        ),
        (b"[" * 5000 + b"]" * 5000, "invalid_json", "recursion limit"),
    ],
)
def test_rejections_name_reason_and_field(value: bytes, reason: str, error: str) -> None:
    rejection = decode_item(value)
    assert isinstance(rejection, Rejection)
    assert rejection.reason == reason
    assert error in rejection.error


def test_oversize_record_is_refused_before_parsing() -> None:
    rejection = decode_item(GOOD, max_bytes=10)
    assert isinstance(rejection, Rejection) and rejection.reason == "too_large"


@given(st.binary(max_size=200))
def test_any_bytes_give_an_item_or_a_rejection(value: bytes) -> None:
    assert isinstance(decode_item(value), RawItem | Rejection)


def test_dead_letters_keep_only_the_start_of_huge_originals() -> None:
    import base64

    from streams.models import ORIGINAL_LIMIT, DeadLetter

    small = DeadLetter.build("invalid_json", "x", b"abc", topic="t", partition=0, offset=1)
    assert (base64.b64decode(small.original_b64), small.truncated) == (b"abc", False)
    huge = DeadLetter.build(
        "too_large", "x", b"z" * (ORIGINAL_LIMIT + 10), source="file", topic="f"
    )
    assert len(base64.b64decode(huge.original_b64)) == ORIGINAL_LIMIT and huge.truncated
    assert (huge.partition, huge.offset) == (None, None)


def test_items_far_ahead_of_their_arrival_are_refused_with_the_reason() -> None:
    from streams.models import RawItem
    from streams.sources.decode import decode_item

    received = 1_780_000_000.0  # 2026-05-28T20:26:40Z
    soon = b'{"id": "a", "title": "t", "published_at": "2026-05-29T08:00:00Z"}'
    later = b'{"id": "b", "title": "t", "published_at": "2026-06-02T00:00:00Z"}'
    assert isinstance(decode_item(soon, received_at=received, max_ahead=86400), RawItem)
    refused = decode_item(later, received_at=received, max_ahead=86400)
    assert not isinstance(refused, RawItem) and refused.reason == "future_timestamp"
    assert "99.6 h after the record was received" in refused.error
    assert isinstance(decode_item(later, received_at=received, max_ahead=0), RawItem)


HOSTILE = [
    (
        "deep nesting",
        b'{"id":"x","title":"t","published_at":"2026-06-01T00:00:00Z","x":'
        + b"[" * 5000
        + b"]" * 5000
        + b"}",
        "invalid_json",
        "recursion limit",
    ),
    (
        "control characters",
        b'{"id":"x","title":"a\\u0000b","published_at":"2026-06-01T00:00:00Z"}',
        "validation_failed",
        "title: Value error, control characters",
    ),
    (
        "huge string",
        b'{"id":"x","title":"' + b"a" * 5000 + b'","published_at":"2026-06-01T00:00:00Z"}',
        "validation_failed",
        "title: String should have at most 2000",
    ),
    (
        "wrong type",
        b'{"id":{"a":1},"title":"t","published_at":"2026-06-01T00:00:00Z"}',
        "validation_failed",
        "id: Input should be a valid string",
    ),
    (
        "NaN",
        b'{"id":"x","title":"t","published_at":"2026-06-01T00:00:00Z","importance":NaN}',
        "validation_failed",
        "importance: Input should be a finite number",
    ),
    (
        "date without zone",
        b'{"id":"x","title":"t","published_at":"2026-06-01T00:00:00"}',
        "validation_failed",
        "published_at: Input should have timezone info",
    ),
    (
        "date far ahead",
        b'{"id":"x","title":"t","published_at":"9999-12-31T23:59:59Z"}',
        "future_timestamp",
        "after the record was received",
    ),
    (
        "year 1 east of UTC: year 0 in UTC",
        b'{"id":"x","title":"t","published_at":"0001-01-01T00:00:00+01:00"}',
        "validation_failed",
        "published_at: Value error, outside the years 1 to 9999 once converted to UTC",
    ),
    (
        "year 9999 west of UTC: year 10000 in UTC",
        b'{"id":"x","title":"t","published_at":"9999-12-31T23:59:59-12:00"}',
        "validation_failed",
        "published_at: Value error, outside the years 1 to 9999 once converted to UTC",
    ),
    (
        "date as a number: seconds or milliseconds?",
        b'{"id":"x","title":"t","published_at":-62135596801}',
        "validation_failed",
        "published_at: Value error, must be an RFC 3339 date-time string, not a number",
    ),
    (
        "control characters in a source and in the language",
        b'{"id":"x","title":"t","published_at":"2026-06-01T00:00:00Z",'
        b'"sources":["ok","a\\u001bb"],"language":"en"}',
        "validation_failed",
        "sources: Value error, control characters",
    ),
    (
        "control characters in the language",
        b'{"id":"x","title":"t","published_at":"2026-06-01T00:00:00Z","language":"e\\u0007n"}',
        "validation_failed",
        "language: Value error, control characters",
    ),
    (
        "megabyte body",
        b'{"id":"x","title":"t","published_at":"2026-06-01T00:00:00Z","body":"'
        + b"b" * 1_000_000
        + b'"}',
        "too_large",
        "exceeds",
    ),
]


@pytest.mark.parametrize(("name", "value", "reason", "error"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_records_are_refused_with_a_reason(
    name: str, value: bytes, reason: str, error: str
) -> None:
    from streams.sources.decode import decode_item

    refused = decode_item(value, received_at=1_780_000_000.0, max_ahead=86400)
    assert (refused.reason, error in refused.error) == (reason, True)  # type: ignore[union-attr]
