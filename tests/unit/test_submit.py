import orjson
import pytest

from streams.sources.submit import Refusal, Submission, check_request, split_submission

ITEM = {"id": "a1", "title": "Border report", "published_at": "2026-06-01T10:00:00Z"}


@pytest.mark.parametrize(
    ("auth", "ctype", "length", "token", "status"),
    [
        (None, "application/json", 10, None, None),
        (None, "application/json; charset=utf-8", 10, None, None),
        (None, "text/plain", 10, None, 415),
        (None, None, 10, None, 415),
        (None, "application/json", 2_000_000, None, 413),
        (None, "application/json", 10, "s3cret", 401),
        ("Bearer wrong", "application/json", 10, "s3cret", 401),
        ("Bearer s3cret", "application/json", 10, "s3cret", None),
        ("bearer  s3cret ", "application/json", 10, "s3cret", None),
        ("Basic s3cret", "application/json", 10, "s3cret", 401),
        ("Bearer s3cret", "text/plain", 10, "s3cret", 415),
    ],
)
def test_header_checks(
    auth: str | None, ctype: str | None, length: int, token: str | None, status: int | None
) -> None:
    refusal = check_request(auth, ctype, length, token=token, max_body=1_048_576)
    assert (refusal.status if refusal else None) == status


def test_one_item_or_an_array() -> None:
    one = split_submission(orjson.dumps(ITEM), max_items=10)
    assert isinstance(one, Submission) and [i for i, _ in one.accepted] == ["a1"]
    many = split_submission(orjson.dumps([ITEM, {**ITEM, "id": "a2"}]), max_items=10)
    assert isinstance(many, Submission) and [i for i, _ in many.accepted] == ["a1", "a2"]
    assert orjson.loads(many.accepted[1][1])["id"] == "a2"


def test_invalid_items_are_rejected_with_the_field_and_valid_ones_kept() -> None:
    body = orjson.dumps([ITEM, {"id": "b", "title": "x"}, 7, {**ITEM, "id": "c", "importance": 99}])
    out = split_submission(body, max_items=10)
    assert isinstance(out, Submission)
    assert [i for i, _ in out.accepted] == ["a1"]
    reasons = [(index, r.reason, r.error.split(":")[0]) for index, _, r in out.rejected]
    assert reasons == [
        (1, "validation_failed", "published_at"),
        (2, "not_an_object", "a raw item must be a JSON object"),
        (3, "validation_failed", "importance"),
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "invalid_json"),
        (b"\xff\xfe", "invalid_utf8"),
        (b'"a string"', "not_an_object"),
    ],
)
def test_malformed_bodies(body: bytes, reason: str) -> None:
    out = split_submission(body, max_items=10)
    assert isinstance(out, Submission) and out.malformed is not None
    assert out.malformed.reason == reason


def test_too_many_items() -> None:
    out = split_submission(orjson.dumps([ITEM] * 11), max_items=10)
    assert isinstance(out, Refusal) and out.status == 413
