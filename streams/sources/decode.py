"""Turn the bytes of one raw-topic record into a validated item, or a reason it is not one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import SchemaValidator

from streams.models import _CONTROL, DeadLetterReason, RawItem

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
        item = _validate(value)
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


# The hot path. RawItem's Python validators cost more than all the rest of parsing and
# validating an item, so decode_item validates with RawItem's core schema without them,
# building the same RawItem instances, and does their work another way:
#
# - Control characters. The JSON parser refuses raw U+0000-U+001F in strings, so only a
#   record with a backslash (an escape) or a DEL byte can hold one: those few are checked
#   in the parser's Rust regex engine (``_CHECKED``), the rest not at all (``_FAST``).
# - A date as a number: both read datetimes strictly, which from JSON accepts only a
#   string, so a number is refused.
# - A date outside years 1 to 9999 in UTC: a UTC offset is under a day, so only a date in
#   year 1 or 9999 can leave that range once converted. Those are left to RawItem.
#
# Whatever they refuse, RawItem validates again: every refusal and its message are
# RawItem's own, and what is accepted is exactly what it accepts.
_CONTROL_CHECKS = (RawItem._no_control_characters, RawItem._no_control_characters_in_sources)
_DATE_CHECKS = (RawItem._a_date_not_a_number, RawItem._a_date_in_utc)
# The strings RawItem._no_control_characters lets through, in Rust regex syntax.
_NO_CONTROL = rf"^[^{_CONTROL.pattern.removeprefix('[').removesuffix(']')}]*$"


def _derived(schema: Any, pattern: str | None, removed: list[object]) -> Any:
    """``schema`` without RawItem's Python checks (appended to ``removed``), its strings
    matching ``pattern`` where a control-character check was, and its datetimes strict."""
    if isinstance(schema, list):
        return [_derived(s, pattern, removed) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") in ("function-after", "function-before"):
        function = schema["function"]["function"]
        if function in _CONTROL_CHECKS + _DATE_CHECKS:
            removed.append(function)
            inner = _derived(schema["schema"], pattern, removed)
            if pattern and function in _CONTROL_CHECKS:
                return _matching(inner, pattern)
            return inner
    if schema.get("type") == "datetime":
        return {**schema, "strict": True}
    # A default or metadata is data, not schema: kept as it is.
    keep = ("default", "metadata")
    return {k: v if k in keep else _derived(v, pattern, removed) for k, v in schema.items()}


def _matching(schema: Any, pattern: str) -> Any:
    """``schema`` with every string in it (a list's items, say) matching ``pattern``."""
    if isinstance(schema, list):
        return [_matching(s, pattern) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "str":
        if "pattern" in schema:
            raise RuntimeError("RawItem's strings have a pattern; review decode")
        return {**schema, "pattern": pattern}
    keep = ("default", "metadata")
    return {k: v if k in keep else _matching(v, pattern) for k, v in schema.items()}


def _validator(pattern: str | None) -> SchemaValidator:
    """RawItem's validator, derived as ``_derived`` says: it builds RawItem instances."""
    schema = RawItem.__pydantic_core_schema__
    fields = {}
    found: dict[object, set[str]] = {check: set() for check in _CONTROL_CHECKS + _DATE_CHECKS}
    for name, field in schema["schema"]["fields"].items():
        removed: list[object] = []
        fields[name] = _derived(field, pattern, removed)
        for check in removed:
            found[check].add(name)
    # _validate looks at published_at's year only: a date check moved there, or any check
    # gone, must be looked at again.
    dated = {name for check in _DATE_CHECKS for name in found[check]}
    if not all(found.values()) or dated != {"published_at"}:
        raise RuntimeError(f"RawItem's validators changed; review decode: {found}")
    derived = {**schema, "schema": {**schema["schema"], "fields": fields}}
    return SchemaValidator(derived, schema.get("config"), _use_prebuilt=False)


_FAST = _validator(None)
_CHECKED = _validator(_NO_CONTROL)


def _validate(value: bytes) -> RawItem:
    """``RawItem.model_validate_json(value)``, faster."""
    # Byte membership is a memchr: far cheaper than any substring or regex search.
    may_hold_control = 0x5C in value or 0x7F in value
    try:
        item: RawItem = (_CHECKED if may_hold_control else _FAST).validate_json(value)
    except ValidationError:
        pass  # RawItem says why, in its own words
    else:
        year = item.published_at.year
        if year != 1 and year != 9999:
            return item
    return RawItem.model_validate_json(value)


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
