"""Items submitted over HTTP (``POST /v1/items``): the request checks, without a server.

A request body is one raw item (a JSON object) or a JSON array of them. The web view in
``streams.pipeline.agents.http_items`` answers from what ``check_request`` and
``split_submission`` decide:

- 401 when a token is configured and the request does not carry it;
- 415 unless the content type is ``application/json``;
- 413 when the body or the number of items is over the limit;
- 400 when the body is not JSON or not an object or array, or when any item is invalid;
  items that are valid are still accepted, and the answer lists both;
- 202 with the ids of the accepted items when every item is valid.

Every item that was read ends on the raw topic (accepted) or on the dead-letter topic
(rejected, with the reason and the field), so nothing submitted is silently dropped.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

import orjson

from streams.models import RawItem
from streams.sources.decode import Rejection, decode_item, unparsable

__all__ = ["Refusal", "Submission", "check_request", "split_submission"]


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request refused before its items are looked at."""

    status: int
    error: str
    detail: str


@dataclass
class Submission:
    accepted: list[tuple[str, bytes]] = field(default_factory=list)
    """(item id, the item's JSON) for the raw topic."""
    rejected: list[tuple[int, bytes, Rejection]] = field(default_factory=list)
    """(index in the request, the original bytes, why) for the dead-letter topic."""
    malformed: Rejection | None = None
    """Set when the body as a whole is not JSON or not an object or array."""


def check_token(authorization: str | None, token: str | None) -> Refusal | None:
    """A 401 unless ``authorization`` is ``Bearer <token>``, or no token is configured."""
    if token is None:
        return None
    scheme, _, offered = (authorization or "").strip().partition(" ")
    offered = offered.strip() if scheme.lower() == "bearer" else ""
    # Constant time: the comparison must not reveal how much of a guess was right.
    if not hmac.compare_digest(offered.encode(errors="replace"), token.encode()):
        return Refusal(401, "unauthorized", "a valid 'Authorization: Bearer <token>' is required")
    return None


def check_request(
    authorization: str | None,
    content_type: str | None,
    content_length: int | None,
    *,
    token: str | None,
    max_body: int,
) -> Refusal | None:
    """Refusals that need only the headers, so an oversized body is never read."""
    refusal = check_token(authorization, token)
    if refusal is not None:
        return refusal
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return Refusal(415, "unsupported_media_type", "send the items as application/json")
    if content_length is not None and content_length > max_body:
        return Refusal(413, "too_large", f"body of {content_length} bytes exceeds {max_body}")
    return None


def split_submission(
    body: bytes, *, max_items: int, received_at: float | None = None, max_ahead: float = 0.0
) -> Submission | Refusal:
    """Validate every item of a request body; valid ones for the raw topic, others not."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return Submission(malformed=unparsable(body, f"body is not JSON: {exc}"))
    if isinstance(data, dict):
        data = [data]
    elif not isinstance(data, list):
        return Submission(malformed=Rejection("not_an_object", "send an item object or an array"))
    if len(data) > max_items:
        return Refusal(413, "too_many_items", f"{len(data)} items exceed {max_items} a request")
    out = Submission()
    for index, entry in enumerate(data):
        raw = orjson.dumps(entry)
        item = decode_item(raw, received_at=received_at, max_ahead=max_ahead)
        if isinstance(item, RawItem):
            out.accepted.append((item.id, raw))
        else:
            out.rejected.append((index, raw, item))
    return out
