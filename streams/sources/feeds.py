"""RSS 2.0 and Atom feeds as a source of raw items: parsing, de-duplication, back-off.

Kafka-free; the worker's ``feeds`` agent (``streams.pipeline.agents.feeds``) fetches and calls
these. Per feed the state is small and kept in a changelog-backed table, so neither a
restart nor a rebalance re-sends an item or forgets a validator:

- ``etag`` / ``modified``: sent back as ``If-None-Match`` / ``If-Modified-Since``, so an
  unchanged feed costs a 304 and no parsing;
- ``seen``: entry id (guid, else link, else a hash of title and date) → when last seen
  in the feed, for the last ``SEEN_DAYS`` days and at most ``SEEN_CAP`` entries: an entry
  still in the feed stays remembered however old;
- ``failures`` / ``next_poll``: after an error the feed waits ``interval * 2^failures``
  (at most ``max_backoff``) before the next try; a success resets it.

Parsing is feedparser's (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, broken XML included). Each new
entry becomes a raw item; entries the raw-item contract refuses (no title, say) are still
sent, so that ingest dead-letters them with the reason rather than this code dropping them.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
import orjson
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FeedSource", "FeedState", "feed_items", "feed_label"]

SEEN_DAYS = 30
SEEN_CAP = 5_000
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


class FeedSource(BaseModel):
    """One configured feed; ``region`` and friends fill in what feeds rarely say."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(pattern=r"^https?://", max_length=2_000)
    name: str | None = Field(default=None, description="Publisher; default: the feed's title.")
    region: str | None = None
    category: str | None = None
    language: str | None = None


def feed_label(source: FeedSource) -> str:
    """How logs and metric labels name a feed: its ``name``, else its host and a hash of
    the URL. Never the path or query, which may hold an access token."""
    if source.name:
        return source.name
    digest = hashlib.sha256(source.url.encode()).hexdigest()[:8]
    return f"{urlsplit(source.url).hostname or '?'}#{digest}"


@dataclass
class FeedState:
    etag: str | None = None
    modified: str | None = None
    seen: dict[str, float] = field(default_factory=dict)
    failures: int = 0
    next_poll: float = 0.0

    def dumps(self) -> bytes:
        return orjson.dumps(self.__dict__)

    @classmethod
    def loads(cls, data: bytes | None) -> FeedState:
        return cls() if data is None else cls(**orjson.loads(data))

    def due(self, now: float) -> bool:
        return now >= self.next_poll

    def succeeded(self, now: float, interval: float) -> None:
        self.failures = 0
        self.next_poll = now + interval

    def failed(self, now: float, interval: float, max_backoff: float) -> float:
        """Record a failed poll; returns the seconds until the next try."""
        self.failures += 1
        # The exponent stops growing once the cap is reached: 2**1024 overflows a float.
        wait = min(interval * 2 ** min(self.failures, 40), max_backoff)
        self.next_poll = now + wait
        return wait

    def remember(self, entry_ids: list[str], now: float) -> None:
        """Note the ids the feed holds now (all of them, not only the new ones)."""
        for entry_id in entry_ids:
            self.seen[entry_id] = now
        horizon = now - SEEN_DAYS * 86400
        kept = [(i, t) for i, t in self.seen.items() if t >= horizon]
        self.seen = dict(sorted(kept, key=lambda it: it[1])[-SEEN_CAP:])


def feed_items(
    body: bytes, source: FeedSource, state: FeedState, now: float
) -> tuple[list[tuple[str, bytes]], list[str]]:
    """New entries of a fetched feed as (item id, raw item JSON), and the entry ids of
    every entry in the feed.

    ``state`` is not changed: call ``state.remember`` with the ids once the items are safely
    sent. Item ids carry the feed's host, so two feeds numbering their entries alike
    cannot collide.
    """
    parsed = feedparser.parse(body)
    feed = parsed.get("feed", {})
    publisher = source.name or _text(feed.get("title")) or urlsplit(source.url).hostname or "?"
    language = source.language or feed.get("language") or None
    host = urlsplit(source.url).hostname or "feed"
    out, ids = [], []
    for entry in parsed.get("entries", []):
        entry_id = _entry_id(entry)
        ids.append(entry_id)
        if entry_id in state.seen:
            continue
        item = _item(entry, f"{host}|{entry_id}", source, publisher, language, now)
        out.append((str(item["id"]), orjson.dumps(item)))
    return out, ids


def _item(
    entry: Any, entry_id: str, source: FeedSource, publisher: str, language: str | None, now: float
) -> dict[str, Any]:
    struct = entry.get("published_parsed") or entry.get("updated_parsed")
    # A feed without dates gets the time it was read: the best event time there is.
    published = datetime.fromtimestamp(calendar.timegm(struct) if struct else now, UTC)
    content = entry.get("content") or []
    body = content[0].get("value") if content else entry.get("summary", "")
    item: dict[str, Any] = {
        "id": entry_id[:512],
        "title": _text(entry.get("title")),
        "body": _text(body),
        "published_at": published.isoformat().replace("+00:00", "Z"),
        "url": entry.get("link"),
        "publisher": publisher,
        "sources": ["rss"],
    }
    for name in ("region", "category"):
        if value := getattr(source, name):
            item[name] = value
    if language:
        item["language"] = language
    return item


def _entry_id(entry: Any) -> str:
    if entry.get("id"):
        return str(entry["id"])
    if entry.get("link"):
        return str(entry["link"])
    seed = f"{entry.get('title', '')}|{entry.get('published', '')}".encode()
    return "sha256:" + hashlib.sha256(seed).hexdigest()


def _text(value: object) -> str:
    """Plain text from what may be HTML: tags dropped, entities decoded, spaces squeezed."""
    if not value:
        return ""
    return _SPACE.sub(" ", html.unescape(_TAGS.sub(" ", str(value)))).strip()
