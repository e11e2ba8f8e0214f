"""Turn the bytes of one raw-topic record into a validated item, or a reason it is not one."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from streams.models import DeadLetterReason, RawItem

__all__ = ["MAX_RECORD_BYTES", "Rejection", "decode_item", "describe", "unparsable"]

# Larger records are refused before parsing: under the 1 MB that Kafka brokers and
# producers accept by default, so an item that passes fits on every topic it goes to.
MAX_RECORD_BYTES = 900_000


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: DeadLetterReason
    error: str


def decode_item(
    value: bytes | None,
    max_bytes: int = MAX_RECORD_BYTES,
    *,
    received_at: float | None = None,
    max_ahead: float = 0.0,
) -> RawItem | Rejection:
    """The item in ``value``, or why it is refused.

    With ``received_at`` (when the record reached Kafka, Unix seconds) and ``max_ahead``
    above zero, an item published more than ``max_ahead`` seconds after it was received
    is refused as ``future_timestamp``: a clock or time-zone error, which would otherwise
    drag the watermark ahead and make every honest report late. Items from the past are
    not refused here; windows already closed count them as late.
    """
    if not value:
        return Rejection("invalid_json", "empty record")
    if len(value) > max_bytes:
        return Rejection("too_large", f"record of {len(value)} bytes exceeds {max_bytes}")
    try:
        item = RawItem.model_validate_json(value)
    except ValidationError as exc:
        return _classify(value, exc)
    if received_at is not None and max_ahead > 0:
        ahead = item.published_at.timestamp() - received_at
        if ahead > max_ahead:
            return Rejection(
                "future_timestamp",
                f"published_at is {ahead / 3600:.1f} h after the record was received; "
                f"at most {max_ahead / 3600:g} h ahead is accepted",
            )
    return item


def unparsable(value: bytes, detail: str) -> Rejection:
    """Why bytes that failed to parse as JSON did: bad UTF-8, or bad JSON (``detail``)."""
    try:
        value.decode("utf-8")
    except UnicodeDecodeError as ude:
        return Rejection("invalid_utf8", f"invalid UTF-8 at byte {ude.start}: {ude.reason}")
    return Rejection("invalid_json", detail)


def _classify(value: bytes, exc: ValidationError) -> Rejection:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        return unparsable(value, f"not JSON: {first['msg']}")
    if first["type"] == "model_type" and not first["loc"]:
        return Rejection("not_an_object", "a raw item must be a JSON object")
    return Rejection("validation_failed", describe(exc))


def describe(exc: ValidationError, limit: int = 5) -> str:
    """``field: reason`` for the first few errors: enough to fix the record, short to log."""
    errors = exc.errors(include_url=False, include_input=False)
    parts = [f"{'.'.join(map(str, e['loc'])) or '(record)'}: {e['msg']}" for e in errors[:limit]]
    more = f" (+{len(errors) - limit} more)" if len(errors) > limit else ""
    return "; ".join(parts) + more
