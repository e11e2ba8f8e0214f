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


# Control characters, dates as numbers and dates outside years 1 to 9999 in UTC: refused
# with RawItem's own message whether decode_item takes its fast path or not.

BASE = {"id": "x", "title": "t", "published_at": "2026-06-01T00:00:00Z"}
CONTROL_MESSAGE = "Value error, control characters are not allowed (tab and line breaks are)"
TEXT_FIELDS = ["id", "title", "body", "deck", "region", "category", "url", "publisher", "language"]


def _record(**fields: object) -> bytes:
    import json

    return json.dumps({**BASE, **fields}).encode()


@pytest.mark.parametrize("field", TEXT_FIELDS)
@pytest.mark.parametrize(
    "text",
    [b"a\\u0000b", b"a\\u001Bb", b"a\\u007fb", b"a\\bb", b"a\\fb", b"a\x7fb"],
    ids=["nul", "escape", "del-escaped", "backspace", "form-feed", "raw-del"],
)
def test_control_characters_are_refused_in_each_text_field(field: str, text: bytes) -> None:
    value = _record(**{field: "PLACEHOLDER"}).replace(b"PLACEHOLDER", text)
    refused = decode_item(value, received_at=1_780_000_000.0, max_ahead=86400)
    assert isinstance(refused, Rejection)
    assert refused.reason == "validation_failed"
    assert refused.error == f"{field}: {CONTROL_MESSAGE}"


@pytest.mark.parametrize("bad", [b'"a\\u0001"', b'"a\x7f"', b'"a\\fb"'])
def test_control_characters_are_refused_in_a_source(bad: bytes) -> None:
    value = _record(sources=["ok", "PLACEHOLDER", "ok"]).replace(b'"PLACEHOLDER"', bad)
    refused = decode_item(value)
    assert isinstance(refused, Rejection) and refused.reason == "validation_failed"
    assert refused.error == f"sources: {CONTROL_MESSAGE}"


@pytest.mark.parametrize(
    "text",
    [
        "tab\tnew line\nreturn\r",
        "a backslash before b: \\b, before u0001: \\u0001",
        "\u0085 \u2028 \ufeff é Ж 北",
        "\u000b stripped at the ends \u000c",
    ],
    ids=["tab-and-breaks", "escaped-backslash", "other-unicode", "stripped-ends"],
)
def test_text_without_control_characters_is_kept(text: str) -> None:
    item = decode_item(_record(title=text, body=text, sources=[text]))
    assert isinstance(item, RawItem), item
    assert item.body == text.strip() and item.sources == [text.strip()]


@pytest.mark.parametrize(
    "number", ["1780000000", "1780000000000", "-1.5", "1e400", "NaN", "123456789012345678901234"]
)
def test_a_date_as_a_number_is_refused(number: str) -> None:
    value = _record(published_at="PLACEHOLDER").replace(b'"PLACEHOLDER"', number.encode())
    refused = decode_item(value)
    assert isinstance(refused, Rejection) and refused.reason == "validation_failed"
    assert refused.error == (
        "published_at: Value error, must be an RFC 3339 date-time string, not a number"
    )


def test_a_date_without_zone_is_refused() -> None:
    refused = decode_item(_record(published_at="2026-06-01T00:00:00"))
    assert isinstance(refused, Rejection) and refused.reason == "validation_failed"
    assert refused.error == "published_at: Input should have timezone info"


@pytest.mark.parametrize(
    ("published_at", "accepted"),
    [
        ("0001-01-01T00:00:00+01:00", False),
        ("0001-01-01T00:59:59.999999+01:00", False),
        ("0001-01-01T01:00:00+01:00", True),
        ("0001-01-01T00:00:00-01:00", True),
        ("9999-12-31T23:30:00-01:00", False),
        ("9999-12-31T23:00:00-01:00", False),
        ("9999-12-31T22:59:59.999999-01:00", True),
        ("9999-12-31T23:59:59.999999Z", True),
        ("9999-12-31T23:30:00+01:00", True),
    ],
)
def test_dates_outside_years_1_to_9999_in_utc_are_refused(
    published_at: str, accepted: bool
) -> None:
    result = decode_item(_record(published_at=published_at))
    if accepted:
        assert isinstance(result, RawItem)
        assert result.published_at == RawItem(**{**BASE, "published_at": published_at}).published_at
    else:
        assert isinstance(result, Rejection) and result.reason == "validation_failed"
        assert result.error == (
            "published_at: Value error, outside the years 1 to 9999 once converted to UTC"
        )


def test_every_error_of_a_record_is_named_once() -> None:
    value = (
        b'{"id":"x\\u0001","title":"t","published_at":5,"importance":11,'
        b'"sources":["\\u0001","\\u0002"],"language":"\\u0007"}'
    )
    refused = decode_item(value)
    assert isinstance(refused, Rejection)
    assert refused.error == (
        f"id: {CONTROL_MESSAGE}; "
        "published_at: Value error, must be an RFC 3339 date-time string, not a number; "
        "importance: Input should be less than or equal to 10; "
        f"sources: {CONTROL_MESSAGE}; "
        f"language: {CONTROL_MESSAGE}"
    )


CONTROL = st.sampled_from([chr(c) for c in range(0x20)] + ["\x7f", "\x85", "\\", "b", "u", "0"])
TEXT = st.text(st.one_of(CONTROL, st.characters(exclude_categories=["Cs"])), max_size=20)


@given(TEXT, st.sampled_from(TEXT_FIELDS), st.booleans())
def test_fast_and_full_validation_agree(text: str, field: str, ascii_only: bool) -> None:
    import json

    from pydantic import ValidationError

    from streams.sources.decode import describe

    value = json.dumps({**BASE, field: text, "sources": [text]}, ensure_ascii=ascii_only).encode()
    try:
        expected: RawItem | str = RawItem.model_validate_json(value)
    except ValidationError as exc:
        expected = describe(exc)
    result = decode_item(value)
    assert (result if isinstance(result, RawItem) else result.error) == expected


@given(TEXT, st.booleans())
def test_json_text_with_control_characters_has_a_backslash_or_del(
    text: str, ascii_only: bool
) -> None:
    # What lets decode_item skip the control-character check for most records.
    import json
    import re

    import orjson

    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text):
        for encoded in (json.dumps(text, ensure_ascii=ascii_only).encode(), orjson.dumps(text)):
            assert b"\\" in encoded or b"\x7f" in encoded


@pytest.mark.parametrize("byte", range(0x20))
def test_raw_control_bytes_in_a_string_are_not_json(byte: int) -> None:
    # The other half of it: a control character in a string must come escaped.
    refused = decode_item(_record(title="PLACEHOLDER").replace(b"PLACEHOLDER", bytes([byte])))
    assert isinstance(refused, Rejection) and refused.reason == "invalid_json"


def test_the_derived_validators_leave_out_only_what_decode_item_checks_otherwise() -> None:
    from pydantic import ValidationError

    from streams.sources.decode import _CHECKED, _FAST

    # Control characters and dates in year 1 are left to the bytes and the year...
    control = _record(title="a\u0001", sources=["\u007f"], published_at="0001-01-01T00:00:00+01:00")
    item = _FAST.validate_json(control)
    assert type(item) is RawItem and item.title == "a\u0001"
    # ... or to the Rust regex engine, for records that may hold a control character.
    for field in [*TEXT_FIELDS, "sources"]:
        text = "a\u001b" if field != "sources" else ["ok", "a\u001b"]
        with pytest.raises(ValidationError, match="String should match pattern"):
            _CHECKED.validate_json(_record(**{field: text}))
    kept = _record(title="tab\tline\n\u0085\u2028 é", sources=["a\tb"])
    assert (
        _CHECKED.validate_json(kept)
        == _FAST.validate_json(kept)
        == RawItem.model_validate_json(kept)
    )
    # Numbers are refused as before, and every other check is RawItem's.
    for validator in (_FAST, _CHECKED):
        for value in (
            _record(published_at=1780000000),
            _record(title=" "),
            _record(language="x" * 36),
            _record(published_at="2026-06-01T00:00:00"),
        ):
            with pytest.raises(ValidationError):
                validator.validate_json(value)
        item = validator.validate_json(_record(extra=[1], title=" t "))
        assert item.model_extra == {"extra": [1]} and item.title == "t"


def test_the_control_character_pattern_refuses_what_the_model_refuses() -> None:
    from pydantic import ValidationError

    from streams.sources.decode import _CHECKED

    for char in map(chr, [*range(0x3000), 0xFEFF, 0xFFFD, 0x1F600, 0x10FFFF]):
        text = f"a{char}b"
        try:
            RawItem._no_control_characters(text)
        except ValueError:
            with pytest.raises(ValidationError):
                _CHECKED.validate_json(_record(title=text))
        else:
            assert _CHECKED.validate_json(_record(title=text)).title == text
