"""Turn a validated raw item into the signal hits the matcher finds in it."""

from __future__ import annotations

from datetime import UTC, datetime

from streams.fingerprint import fingerprint
from streams.models import RawItem, SignalHit
from streams.signals.matcher import Matcher

__all__ = ["item_hits"]


def item_hits(
    matcher: Matcher,
    item: RawItem,
    ingested_at: float,
    watermark: float,
    source: int = 0,
    *,
    fingerprints: bool = True,
) -> list[SignalHit]:
    """One hit per matching signal, keyed ``signal|region`` (or publisher); times: Unix s.

    ``source`` is the raw partition the item came from, ``watermark`` that partition's.
    Without ``fingerprints`` (near-duplicate detection off) hits carry none.
    """
    matches = matcher.match(item)
    if not matches:
        return []
    published = item.published_at.astimezone(UTC)
    # Once per item, and only for items that hit: most items never need one.
    print_ = fingerprint(item.title, item.body) if fingerprints else None
    ingested = datetime.fromtimestamp(ingested_at, UTC)
    mark = datetime.fromtimestamp(watermark, UTC)
    return [
        SignalHit(
            key=m.key,
            signal_id=m.signal_id,
            region=m.region,
            item_id=item.id,
            title=item.title,
            url=item.url,
            publisher=item.publisher,
            published_at=published,
            importance=item.importance,
            matched_terms=list(m.terms),
            sentence=m.sentence,
            fingerprint=print_,
            ingested_at=ingested,
            watermark=mark,
            source=source,
            watchlist_version=matcher.version,
        )
        for m in matches
    ]
