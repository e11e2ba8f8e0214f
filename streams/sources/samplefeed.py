"""A deterministic, realistic OSINT feed of a few weeks for the demo and integration tests.

Background news on many topics (with hard near-misses that name Belarus, the Union State
or the EU border without being a watched signal), rare genuine reports of each of the five
signals, and one surge of one signal from many outlets. Delivery looks like a real feed:
mostly in ``published_at`` order, a few items a few minutes late, a few delivered twice.
Everything comes from ``random.Random(seed)``: the same spec always gives the same feed.
The text it draws on (story templates, outlets, places) is ``streams/data/samplefeed.yaml``.
"""

from __future__ import annotations

import copy
import random
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

import orjson
import yaml

__all__ = [
    "DEFAULT_SURGE",
    "SIGNAL_IDS",
    "FeedSpec",
    "LabeledItem",
    "Surge",
    "generate",
    "generate_labeled",
    "signal_reports",
    "write_jsonl",
]

_LATE_SHARE = 0.05  # share of items delivered a few minutes after later ones
_LATE_SECONDS = (60.0, 480.0)
_REDELIVERY_DELAY_SECONDS = (120.0, 3600.0)

Kind = Literal["background", "near-miss", "genuine", "surge"]


@dataclass(frozen=True)
class Surge:
    signal_id: str
    region: str
    start: datetime
    end: datetime
    reports: int


_DEFAULT_START = datetime(2026, 5, 4, tzinfo=UTC)
# Day 21 counted from 0, so three full weeks of baseline precede it: 2026-05-25 06:00-14:00.
DEFAULT_SURGE = Surge(
    signal_id="belarus-men-crossing-eu",
    region="Eastern Europe",
    start=_DEFAULT_START + timedelta(days=21, hours=6),
    end=_DEFAULT_START + timedelta(days=21, hours=14),
    reports=60,
)


@dataclass(frozen=True)
class FeedSpec:
    seed: int = 7
    start: datetime = _DEFAULT_START
    days: int = 28
    background_per_day: int = 150
    genuine_every_days: float = 4.0  # mean gap between rare genuine reports of each signal
    surge: Surge | None = DEFAULT_SURGE  # absolute times: pass another with another start
    redelivery_rate: float = 0.01  # share of items delivered a second time, unchanged

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("FeedSpec.start must be timezone-aware")
        if self.days < 1 or self.background_per_day < 0 or self.genuine_every_days < 0:
            raise ValueError("FeedSpec needs days >= 1 and non-negative rates")
        if not 0.0 <= self.redelivery_rate <= 1.0:
            raise ValueError("FeedSpec.redelivery_rate must be within [0, 1]")
        s = self.surge
        if s is not None and (s.signal_id not in SIGNAL_IDS or s.end <= s.start or s.reports < 0):
            raise ValueError(f"invalid surge: {s}")


@dataclass(frozen=True)
class LabeledItem:
    """A feed item with the ground truth a benchmark scores detection against."""

    item: dict[str, object]
    kind: Kind
    signal_id: str | None = None  # the signal a genuine or surge item reports
    redelivery: bool = False


@dataclass(frozen=True)
class _Topic:
    """Templates of one kind of story; a signal's ``leads`` each carry every rule group."""

    category: str
    importance: tuple[int, int]
    titles: Sequence[str]
    sentences: Sequence[str]
    decks: Sequence[str] = ()
    leads: Sequence[str] = ()
    regions: Sequence[str] = ()


_ROUTE_KEYS = ("eu_neighbour", "eu_adj", "crossing", "eu_town")


def _tables() -> dict[str, Any]:
    """The feed's text, from ``streams/data/samplefeed.yaml``."""
    text = resources.files("streams").joinpath("data/samplefeed.yaml").read_text("utf-8")
    return cast(dict[str, Any], yaml.safe_load(text))


def _words(entry: list[str] | dict[str, int]) -> list[str]:
    """A vocabulary entry: its words, or the whole numbers of a from/to/step range."""
    if isinstance(entry, dict):
        return [str(n) for n in range(entry["from"], entry["to"] + 1, entry.get("step", 1))]
    return [str(word) for word in entry]


def _topic(entry: dict[str, Any], regions: Sequence[str]) -> _Topic:
    lo, hi = entry["importance"]
    return _Topic(
        entry["category"],
        (lo, hi),
        entry["titles"],
        entry["sentences"],
        entry.get("decks", ()),
        entry.get("leads", ()),
        tuple(entry.get("regions", regions)),
    )


_TABLES = _tables()
REGIONS = tuple(_TABLES["regions"])
# Fictional outlets on reserved .example domains: realistic spread, no real brand quoted.
PUBLISHERS = [(name, name.lower().replace(" ", "") + ".example") for name in _TABLES["publishers"]]
_SOURCES: list[str] = _TABLES["sources"]
# Country and city drawn together so a story never puts Riga in Hungary.
_PLACES = {region: [(c, city) for c, city in pairs] for region, pairs in _TABLES["places"].items()}
_ROUTES = [tuple(route) for route in _TABLES["routes"]]
_VOCAB = {key: _words(entry) for key, entry in _TABLES["vocabulary"].items()}
_BACKGROUND = [_topic(t, REGIONS) for t in _TABLES["background"]]
_NEAR_MISSES = [_topic(t, REGIONS) for t in _TABLES["near_misses"]]
_SIGNALS = {signal_id: _topic(t, REGIONS) for signal_id, t in _TABLES["signals"].items()}
SIGNAL_IDS = tuple(_SIGNALS)


class _Fill(dict[str, str]):
    """Placeholder values of one item, drawn on first use so title and body agree."""

    def __init__(self, rng: random.Random, region: str) -> None:
        super().__init__()
        self.rng, self.region = rng, region
        self.pinned: set[str] = set()

    def pin(self) -> None:
        """Keep the values the accepted text so far has used."""
        self.pinned = set(self)

    def forget(self) -> None:
        """Drop values a rejected text drew, so a retry can draw others."""
        for key in set(self) - self.pinned:
            del self[key]

    def __missing__(self, key: str) -> str:
        if key in ("country", "city"):
            self.update(
                zip(("country", "city"), self.rng.choice(_PLACES[self.region]), strict=True)
            )
        elif key in _ROUTE_KEYS:
            self.update(zip(_ROUTE_KEYS, self.rng.choice(_ROUTES), strict=True))
        elif key == "publisher":  # another outlet quoted in the text
            self[key] = self.rng.choice(PUBLISHERS)[0]
        else:
            self[key] = self.rng.choice(_VOCAB[key])
        return self[key]


_NEAR_MISS_SHARE = 0.06  # of background items; enough to hurt a sloppy matcher


@dataclass(frozen=True)
class _Draft:
    published: datetime
    kind: Kind
    signal_id: str | None
    region: str
    topic: _Topic
    publisher: tuple[str, str] | None = None  # drawn at random when not assigned


def generate(spec: FeedSpec = FeedSpec()) -> list[dict[str, object]]:
    """JSON-ready raw items in delivery order."""
    return [labeled.item for labeled in generate_labeled(spec)]


def generate_labeled(spec: FeedSpec = FeedSpec()) -> list[LabeledItem]:
    """The feed of ``generate`` with each item's ground truth, for tests and benchmarks."""
    rng = random.Random(spec.seed)
    drafts = [*_background(rng, spec), *_genuine(rng, spec), *_surge(rng, spec)]
    drafts.sort(key=lambda d: d.published)  # stable: ties keep draw order, so deterministic
    used: set[str] = set()
    items = [_finish(rng, spec.seed, n, d, used) for n, d in enumerate(drafts)]
    return _deliver(rng, items, spec.redelivery_rate)


def signal_reports(
    seed: int,
    signal_id: str,
    region: str,
    times: Sequence[datetime],
    publishers: Sequence[tuple[str, str]] | None = None,
) -> list[dict[str, object]]:
    """Reports of one signal published at ``times``, each worded afresh, in time order.

    With ``publishers`` the reports cycle through those outlets; otherwise each draws one.
    """
    rng = random.Random(f"{seed}|{signal_id}|{region}")
    topic = _SIGNALS[signal_id]
    used: set[str] = set()
    items = []
    for n, published in enumerate(sorted(times)):
        outlet = publishers[n % len(publishers)] if publishers else None
        draft = _Draft(published, "genuine", signal_id, region, topic, outlet)
        items.append(_finish(rng, seed, n, draft, used).item)
    return items


def write_jsonl(path: Path, items: Iterable[dict[str, object]]) -> int:
    """Write one JSON object per line; return the number of lines."""
    count = 0
    with path.open("wb") as out:
        for item in items:
            out.write(orjson.dumps(item) + b"\n")
            count += 1
    return count


def _background(rng: random.Random, spec: FeedSpec) -> Iterable[_Draft]:
    for day in range(spec.days):
        day_start = spec.start + timedelta(days=day)
        # Weekdays carry more news than weekends; the factors average to 1 over a week.
        factor = 1.1 if day_start.weekday() < 5 else 0.75
        for _ in range(round(spec.background_per_day * factor * rng.uniform(0.9, 1.1))):
            # News peaks in the European afternoon and never fully stops at night.
            published = day_start + timedelta(seconds=int(rng.triangular(0, 86_399, 50_400)))
            near = rng.random() < _NEAR_MISS_SHARE
            topic = rng.choice(_NEAR_MISSES if near else _BACKGROUND)
            kind: Kind = "near-miss" if near else "background"
            yield _Draft(published, kind, None, rng.choice(topic.regions), topic)


def _genuine(rng: random.Random, spec: FeedSpec) -> Iterable[_Draft]:
    if spec.genuine_every_days <= 0:
        return
    span = spec.days * 86_400
    for signal_id, topic in _SIGNALS.items():
        at = rng.expovariate(1 / (spec.genuine_every_days * 86_400))
        while at < span:
            published = spec.start + timedelta(seconds=int(at))
            yield _Draft(published, "genuine", signal_id, rng.choice(topic.regions), topic)
            at += rng.expovariate(1 / (spec.genuine_every_days * 86_400))


def _surge(rng: random.Random, spec: FeedSpec) -> Iterable[_Draft]:
    surge = spec.surge
    if surge is None:
        return
    # Cycling through a shuffled list spreads the surge over as many outlets as possible,
    # as when a story breaks everywhere at once.
    outlets = rng.sample(PUBLISHERS, len(PUBLISHERS))
    window = (surge.end - surge.start).total_seconds()
    topic = _SIGNALS[surge.signal_id]
    for i in range(surge.reports):
        published = surge.start + timedelta(seconds=int(rng.uniform(0, window)))
        outlet = outlets[i % len(outlets)]
        yield _Draft(published, "surge", surge.signal_id, surge.region, topic, outlet)


def _finish(rng: random.Random, seed: int, n: int, draft: _Draft, used: set[str]) -> LabeledItem:
    topic, fill = draft.topic, _Fill(rng, draft.region)
    # Signal reports never reuse a sentence: a surge must read as many reports, not one.
    fresh = used if draft.signal_id else None
    title = _pick(rng, topic.titles, fill, fresh)[0]
    body = _pick(rng, topic.leads, fill, fresh) if topic.leads else []
    body += _pick(rng, topic.sentences, fill, fresh, count=rng.randint(2, 5) - len(body))
    deck = None
    if topic.decks and rng.random() < (0.6 if draft.signal_id else 0.3):
        deck = _pick(rng, topic.decks, fill, fresh)[0]
    name, domain = draft.publisher or rng.choice(PUBLISHERS)
    item: dict[str, object] = {
        "id": f"wf-{seed}-{n:06d}",
        "title": title,
        "body": " ".join(body),
        "published_at": draft.published.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": draft.region,
        "category": topic.category,
        "importance": rng.randint(*topic.importance),
        "sources": rng.sample(_SOURCES, rng.randint(1, 2)),
        "url": f"https://{domain}/{_slug(title)}-{n}",
        "publisher": name,
        "language": "en",
    }
    if deck:
        item["deck"] = deck
    return LabeledItem(item, draft.kind, draft.signal_id)


def _pick(
    rng: random.Random,
    templates: Sequence[str],
    fill: _Fill,
    used: set[str] | None,
    count: int = 1,
) -> list[str]:
    """Up to ``count`` texts from distinct templates; with ``used``, texts new to it."""
    seen = set() if used is None else used
    picked: list[str] = []
    spent: set[str] = set()
    # Two rounds: a template whose text was taken may give a new one with other values.
    for template in rng.sample(templates, len(templates)) * 2:
        if len(picked) == count:
            break
        text = template.format_map(fill)
        if template in spent or text in seen:
            # Values already printed in this item stay, so title and body tell one story.
            fill.forget()
            continue
        fill.pin()
        seen.add(text)
        picked.append(text)
        spent.add(template)
    return picked or [rng.choice(templates).format_map(fill)]  # a repeat beats no text


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].rstrip("-")


def _deliver(
    rng: random.Random, items: list[LabeledItem], redelivery_rate: float
) -> list[LabeledItem]:
    """Order items as a feed delivers them: a few late, a few twice."""
    schedule: list[tuple[float, int, LabeledItem]] = []
    for seq, labeled in enumerate(items):
        at = datetime.fromisoformat(str(labeled.item["published_at"])).timestamp()
        if rng.random() < _LATE_SHARE:
            at += rng.uniform(*_LATE_SECONDS)
        schedule.append((at, seq, labeled))
    for seq in sorted(rng.sample(range(len(items)), round(redelivery_rate * len(items)))):
        at, _, original = schedule[seq]
        again = LabeledItem(
            copy.deepcopy(original.item), original.kind, original.signal_id, redelivery=True
        )
        schedule.append((at + rng.uniform(*_REDELIVERY_DELAY_SECONDS), len(schedule), again))
    schedule.sort(key=lambda entry: entry[:2])
    return [labeled for _, _, labeled in schedule]
