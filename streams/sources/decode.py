"""Turn the bytes of one raw-topic record into a validated item, or a reason it is not one."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from streams.models import DeadLetterReason, RawItem

__all__ = ["MAX_RECORD_BYTES", "Rejection", "decode_item", "describe"]

# Larger records are refused before parsing: under the 1 MB that Kafka brokers and
# producers accept by default, so an item that passes fits on every topic it goes to.
MAX_RECORD_BYTES = 900_000


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: DeadLetterReason
    error: str


def decode_item(value: bytes | None, max_bytes: int = MAX_RECORD_BYTES) -> RawItem | Rejection:
    if not value:
        return Rejection("invalid_json", "empty record")
    if len(value) > max_bytes:
        return Rejection("too_large", f"record of {len(value)} bytes exceeds {max_bytes}")
    try:
        return RawItem.model_validate_json(value)
    except ValidationError as exc:
        return _classify(value, exc)


def _classify(value: bytes, exc: ValidationError) -> Rejection:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        try:
            value.decode("utf-8")
        except UnicodeDecodeError as ude:
            return Rejection("invalid_utf8", f"invalid UTF-8 at byte {ude.start}: {ude.reason}")
        return Rejection("invalid_json", f"not JSON: {first['msg']}")
    if first["type"] == "model_type" and not first["loc"]:
        return Rejection("not_an_object", "a raw item must be a JSON object")
    return Rejection("validation_failed", describe(exc))


def describe(exc: ValidationError, limit: int = 5) -> str:
    """``field: reason`` for the first few errors: enough to fix the record, short to log."""
    errors = exc.errors(include_url=False, include_input=False)
    parts = [f"{'.'.join(map(str, e['loc'])) or '(record)'}: {e['msg']}" for e in errors[:limit]]
    more = f" (+{len(errors) - limit} more)" if len(errors) > limit else ""
    return "; ".join(parts) + more
