"""A validated look at a raw record without building its item: the ingest hot path.

Of most raw items, which match no signal, ingest needs only to know that they are valid
items, who published them and when. ``glance`` reads that with msgspec, several times
faster than building a ``RawItem`` (``bench/pipeline.py`` shows what it buys), from a
decoder derived from RawItem's own fields. It vouches for a record only where RawItem
accepts it with the same publisher and publication time; a record it is not sure of
(an escape that may hide a control character, whitespace RawItem would strip, a date in
any but the RFC 3339 shape, a date RawItem refuses) gets ``None``, and ``decode_item``
decides, in RawItem's own words. A test holds the two together on generated records.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, NamedTuple, cast, get_args

import annotated_types
import msgspec
from pydantic import AwareDatetime, StringConstraints

from streams.models import RawItem
from streams.sources.decode import MAX_RECORD_BYTES

__all__ = ["Glance", "glance"]


class Glance(NamedTuple):
    publisher: str | None
    published: float
    """``published_at`` as Unix seconds."""
    text: str
    """Title, deck and body joined by spaces, as ``Matcher.may_match`` reads them."""


def _meta(metadata: list[Any]) -> msgspec.Meta:
    bounds: dict[str, Any] = {}
    for rule in metadata:
        if isinstance(rule, annotated_types.MaxLen):
            bounds["max_length"] = rule.max_length
        elif isinstance(rule, annotated_types.Ge):
            bounds["ge"] = rule.ge
        elif isinstance(rule, annotated_types.Le):
            bounds["le"] = rule.le
        elif isinstance(rule, StringConstraints) and not (
            {k for k, v in vars(rule).items() if v is not None} - {"min_length", "max_length"}
        ):
            for name in ("min_length", "max_length"):
                if getattr(rule, name) is not None:
                    bounds[name] = min(bounds.get(name, 1 << 62), getattr(rule, name))
        else:
            raise RuntimeError(f"RawItem has a rule glance does not know: {rule!r}")
    return msgspec.Meta(**bounds)


def _struct(*, only_known: bool) -> type[msgspec.Struct]:
    """RawItem's fields as a msgspec struct: the same types and bounds, and the date as
    text (msgspec rounds fractions of a microsecond where RawItem cuts them). With
    ``only_known``, a record with any other field is refused."""
    if RawItem.model_config.get("extra") != "allow":
        raise RuntimeError("RawItem no longer keeps unknown fields; review glance")
    fields: list[tuple[str, Any, Any]] = []
    for name, field in RawItem.model_fields.items():
        kind = field.annotation
        optional = type(None) in get_args(kind)
        base = next(a for a in get_args(kind) if a is not type(None)) if optional else kind
        if base is AwareDatetime:
            base = str
        elif base not in (str, int, list[str]):
            raise RuntimeError(f"RawItem.{name} has a type glance does not know: {kind}")
        typed: Any = Annotated[base, _meta(field.metadata)] if field.metadata else base
        if optional:
            typed = typed | None
        if field.default_factory is not None:
            factory = cast(Callable[[], Any], field.default_factory)
            fields.append((name, typed, msgspec.field(default_factory=factory)))
        elif field.is_required():
            fields.append((name, typed, msgspec.NODEFAULT))
        else:
            fields.append((name, typed, field.default))
    required = [f[:2] for f in fields if f[2] is msgspec.NODEFAULT]
    optional_fields = [f for f in fields if f[2] is not msgspec.NODEFAULT]
    return msgspec.defstruct(
        "GlancedItem", [*required, *optional_fields], forbid_unknown_fields=only_known
    )


_decode = msgspec.json.Decoder(_struct(only_known=False)).decode
# A record of RawItem's own fields alone nests no deeper than a list in the object.
_decode_known = msgspec.json.Decoder(_struct(only_known=True)).decode
# RawItem's JSON parser refuses values nested about 200 deep, msgspec's goes deeper: a
# record with fields of its own and more brackets than this (in strings or not) goes to
# decode_item.
_NESTING = 100
# Escapes that may spell a control character RawItem refuses (``\b``, ``\f``,
# ``\u0000``-``\u001f``, ``\u007f``): such records go to decode_item. Over-broad on
# purpose (``\u000a`` is a line break RawItem takes). Both parsers refuse lone surrogates.
_DOUBTFUL_ESCAPE = re.compile(rb"\\(?:[bf]|u00[01]|u007)")


def glance(value: bytes | None, *, received_at: float, max_ahead: float) -> Glance | None:
    """What ingest needs of the item in ``value``, or ``None`` when ``decode_item`` must
    decide (``decode_item``'s arguments have the same meaning)."""
    if not value or len(value) > MAX_RECORD_BYTES or 0x7F in value:
        return None
    if 0x5C in value and _DOUBTFUL_ESCAPE.search(value):
        return None
    item: Any
    try:
        item = _decode_known(value)
    except msgspec.DecodeError:  # a field RawItem keeps as extra; or bad JSON, or out of bounds
        if value.count(b"[") + value.count(b"{") > _NESTING:
            return None
        try:
            item = _decode(value)
        except msgspec.DecodeError:
            return None
    # Whitespace RawItem strips would change what glance vouches for: a length floor (id,
    # title) or a value it gives out (publisher).
    id_, title, publisher = item.id, item.title, item.publisher
    if (
        id_.strip() is not id_
        or title.strip() is not title
        or (publisher is not None and publisher.strip() is not publisher)
    ):
        return None
    published = _published(item.published_at)
    if published is None or (max_ahead > 0 and published - received_at > max_ahead):
        return None
    deck = item.deck
    text = f"{title} {deck} {item.body}" if deck else f"{title} {item.body}"
    # tuple.__new__, not Glance(...): a named tuple's own constructor runs in Python.
    return tuple.__new__(Glance, (publisher, published, text))


_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)", re.ASCII)


# Minutes already read in the commonest shape, ``YYYY-MM-DDTHH:MM:SSZ``, as Unix seconds:
# the items of a batch share a few, so most dates cost two look-ups and no parse.
_MINUTES: dict[str, float] = {}
_MINUTES_KEPT = 4096
_SECONDS = {f"{s:02d}": float(s) for s in range(60)}


def _published(text: str) -> float | None:
    """``YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)`` as Unix seconds; ``None`` for any other
    shape, or a date RawItem would refuse (years 1 and 9999 may leave the calendar once in
    UTC). In this shape Python's parser and RawItem's read the same instant."""
    whole = len(text) == 20 and text[19] == "Z"
    if whole:
        # Any second 00-59 of a minute read before is valid in turn, and whole.
        minute = _MINUTES.get(text[:17])
        second = _SECONDS.get(text[17:19])
        if minute is not None and second is not None:
            return minute + second
    if not _RFC3339.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.year == 1 or moment.year == 9999:
        return None
    published = moment.timestamp()
    if whole:
        if len(_MINUTES) >= _MINUTES_KEPT:
            _MINUTES.clear()
        _MINUTES[text[:17]] = published - moment.second
    return published
