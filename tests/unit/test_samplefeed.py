"""The sample feed: deterministic, valid, realistic in delivery, and labelled truthfully.

The rule checker below is a deliberately tiny stand-in for the watchlist's rules: it
checks that the generator writes what it claims to write, not how the matcher works.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.models import RawItem
from streams.signals.watchlist import load_watchlist
from streams.sources.markdown import parse_article_file
from streams.sources.samplefeed import (
    DEFAULT_SURGE,
    SIGNAL_IDS,
    FeedSpec,
    LabeledItem,
    Surge,
    generate,
    generate_labeled,
    write_jsonl,
)

RULES: dict[str, list[list[str]]] = {
    "belarus-men-crossing-eu": [
        ["Belarusian", "Belarusians", "Belarus"],
        ["men", "male", "military-aged", "draft-age", "fighting-age"],
        ["crossing", "crossed", "cross", "fleeing", "fled", "leaving", "exodus", "influx",
         "arrivals", "arriving"],
        ["Poland", "Polish", "Lithuania", "Lithuanian", "Latvia", "Latvian", "EU"],
    ],
    "union-state-conscription-harmonization": [
        ["Union State", "Minsk and Moscow", "Moscow and Minsk", "Russia and Belarus"],
        ["conscription", "military service", "draft", "call-up"],
        ["harmonize", "harmonizing", "harmonisation", "harmonization", "unify", "unified",
         "align", "aligning", "common rules", "single"],
    ],
    "union-state-joint-units": [
        ["Union State"],
        ["unit", "units", "formation", "formations", "brigade", "battalion",
         "regional grouping of forces", "joint force"],
        ["joint", "announce", "announced", "establish", "established", "create", "created",
         "form"],
    ],
    "belarus-service-law-change": [
        ["Belarus", "Belarusian", "Minsk", "Lukashenko"],
        ["law", "legislation", "amendment", "amendments", "bill", "decree"],
        ["military service", "service obligations", "conscription", "military duty"],
        ["residing in Russia", "living in Russia", "working in Russia", "citizens in Russia",
         "abroad"],
    ],
    "belarusians-in-russian-formations": [
        ["Belarusian volunteers", "Belarusian draftees", "Belarusian citizens",
         "Belarusian nationals", "Belarusian mercenaries"],
        ["Russian army", "Russian units", "Russian unit", "Russian formations",
         "Russian regiment", "Russian forces", "Russian military", "Russian battalion"],
    ],
}  # fmt: skip
GROUPS = {
    signal: [re.compile(r"\b(?:" + "|".join(map(re.escape, g)) + r")\b", re.I) for g in groups]
    for signal, groups in RULES.items()
}
ARTICLES = Path(__file__).parents[2] / "streams" / "data" / "articles"
# What each bundled article is: a genuine report of one signal, or a near-miss (None).
ARTICLE_TRUTH = {
    "wf-0001-union-state-gas-price-deal.md": None,
    "wf-0002-union-state-air-defence-brigade.md": "union-state-joint-units",
    "wf-0003-polish-hauliers-block-kukuryki.md": None,
    "wf-0004-belarusian-men-cross-into-lithuania.md": "belarus-men-crossing-eu",
}
SMALL_START = datetime(2026, 5, 4, tzinfo=UTC)


def text_of(item: dict[str, object]) -> str:
    return "\n".join(str(item.get(field) or "") for field in ("title", "deck", "body"))


def groups_hit(item: dict[str, object], signal: str) -> int:
    text = text_of(item)
    return sum(1 for group in GROUPS[signal] if group.search(text))


def matches(item: dict[str, object]) -> set[str]:
    return {s for s in RULES if groups_hit(item, s) == len(RULES[s])}


def when(item: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(item["published_at"]))


def small_spec(seed: int) -> FeedSpec:
    surge = Surge("belarus-men-crossing-eu", "Eastern Europe",
                  SMALL_START + timedelta(days=2, hours=6),
                  SMALL_START + timedelta(days=2, hours=9), 25)  # fmt: skip
    return FeedSpec(seed=seed, days=4, background_per_day=80, genuine_every_days=1.0, surge=surge)


@pytest.fixture(scope="module")
def feed() -> list[LabeledItem]:
    return generate_labeled(FeedSpec())


@pytest.fixture(scope="module")
def originals(feed: list[LabeledItem]) -> list[LabeledItem]:
    return [x for x in feed if not x.redelivery]


def test_same_seed_same_feed_other_seed_other_feed() -> None:
    assert generate(small_spec(3)) == generate(small_spec(3))
    assert generate(small_spec(3)) != generate(small_spec(4))


def test_default_feed_size(feed: list[LabeledItem], originals: list[LabeledItem]) -> None:
    # 28 days of about 150 background items, a surge and a few dozen genuine reports.
    assert 28 * 150 * 0.9 < len(originals) < 28 * 150 * 1.1
    assert generate() == [x.item for x in feed]


def test_every_item_is_a_valid_raw_item(feed: list[LabeledItem]) -> None:
    for labeled in feed:
        item = labeled.item
        raw = RawItem.model_validate(item)
        assert str(item["published_at"]).endswith("Z")
        assert raw.published_at.tzinfo is not None
        assert raw.language == "en" and raw.sources and raw.region and raw.category
        assert re.fullmatch(r"https://[a-z0-9.-]+\.example/[a-z0-9-]+", str(raw.url))
        assert 2 <= len(re.findall(r"[.!?](?:\s|$)", raw.body)) <= 5, raw.body
        # JSON-ready: survives a round trip unchanged.
        assert orjson.loads(orjson.dumps(item)) == item


def test_feed_covers_the_period_and_the_outlets(originals: list[LabeledItem]) -> None:
    spec = FeedSpec()
    times = [when(x.item) for x in originals]
    assert spec.start <= min(times) and max(times) < spec.start + timedelta(days=spec.days)
    assert len({x.item["publisher"] for x in originals}) >= 35
    assert len({x.item["region"] for x in originals}) == 8
    assert len({x.item["category"] for x in originals}) >= 6


def test_surge_is_dense_in_its_window_and_widely_reported(originals: list[LabeledItem]) -> None:
    surge = [x for x in originals if x.kind == "surge"]
    assert len(surge) == DEFAULT_SURGE.reports
    assert all(DEFAULT_SURGE.start <= when(x.item) < DEFAULT_SURGE.end for x in surge)
    assert all(x.signal_id == DEFAULT_SURGE.signal_id for x in surge)
    assert all(x.item["region"] == DEFAULT_SURGE.region for x in surge)
    assert len({x.item["publisher"] for x in surge}) >= 20


def test_reports_of_the_surge_signal_never_repeat_a_sentence(
    originals: list[LabeledItem],
) -> None:
    reports = [x.item for x in originals if x.signal_id == DEFAULT_SURGE.signal_id]
    sentences = Counter(
        s
        for item in reports
        for s in [item["title"], item.get("deck"), *re.split(r"(?<=\.) ", str(item["body"]))]
        if s
    )
    assert [s for s, n in sentences.items() if n > 1] == []


def test_redeliveries_are_exact_later_copies(feed: list[LabeledItem]) -> None:
    first_seen: dict[str, tuple[int, dict[str, object]]] = {}
    again = 0
    for position, labeled in enumerate(feed):
        item_id = str(labeled.item["id"])
        if labeled.redelivery:
            again += 1
            earlier, original = first_seen[item_id]
            assert earlier < position and labeled.item == original
        else:
            assert item_id not in first_seen, "ids are unique apart from redeliveries"
            first_seen[item_id] = (position, labeled.item)
    assert again == round(FeedSpec().redelivery_rate * len(first_seen))


def test_delivery_is_roughly_in_time_order(originals: list[LabeledItem]) -> None:
    latest = when(originals[0].item)
    late = 0
    for labeled in originals:
        published = when(labeled.item)
        if published < latest:
            late += 1
            assert latest - published <= timedelta(minutes=10)
        latest = max(latest, published)
    assert 0 < late < 0.08 * len(originals)


def test_every_signal_has_rare_genuine_reports(originals: list[LabeledItem]) -> None:
    genuine = Counter(x.signal_id for x in originals if x.kind == "genuine")
    assert set(genuine) == set(SIGNAL_IDS)
    # About one every four days over 28 days: seven expected, a Poisson spread allowed.
    assert all(1 <= n <= 20 for n in genuine.values()), genuine
    regions = {x.item["region"] for x in originals if x.kind == "genuine"}
    assert regions == {"Eastern Europe", "Baltics"}


def test_the_feed_reports_the_signals_of_the_bundled_watchlist() -> None:
    """The feed's text (``streams/data/samplefeed.yaml``) and the watchlist name one set."""
    assert set(SIGNAL_IDS) == {s.id for s in load_watchlist(None).signals}


def test_reports_match_their_rule_and_nothing_else_matches(feed: list[LabeledItem]) -> None:
    for labeled in feed:
        if labeled.signal_id:
            assert labeled.signal_id in matches(labeled.item), labeled.item
        else:
            assert matches(labeled.item) == set(), labeled.item


def test_near_misses_come_close_to_every_rule(originals: list[LabeledItem]) -> None:
    near = [x.item for x in originals if x.kind == "near-miss"]
    assert len(near) > 100
    for signal, groups in RULES.items():
        closest = max(groups_hit(item, signal) for item in near)
        assert closest == len(groups) - 1, signal


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_any_seed_gives_valid_truthfully_labelled_items(seed: int) -> None:
    for labeled in generate_labeled(small_spec(seed)):
        RawItem.model_validate(labeled.item)
        expected = {labeled.signal_id} if labeled.signal_id else set()
        assert matches(labeled.item) >= expected
        assert labeled.signal_id or not matches(labeled.item)


def test_switches_turn_parts_of_the_feed_off() -> None:
    spec = FeedSpec(days=2, genuine_every_days=0, surge=None, redelivery_rate=0)
    kinds = Counter(x.kind for x in generate_labeled(spec))
    assert set(kinds) <= {"background", "near-miss"}


def test_invalid_specs_are_refused() -> None:
    with pytest.raises(ValueError):
        FeedSpec(start=datetime(2026, 5, 4))
    with pytest.raises(ValueError):
        FeedSpec(surge=Surge("no-such-signal", "Baltics", SMALL_START, SMALL_START, 1))


def test_write_jsonl_writes_one_object_a_line(tmp_path: Path) -> None:
    items = generate(small_spec(1))
    path = tmp_path / "feed.jsonl"
    assert write_jsonl(path, items) == len(items)
    assert [orjson.loads(line) for line in path.read_bytes().splitlines()] == items


@pytest.mark.parametrize("name", sorted(ARTICLE_TRUTH))
def test_bundled_articles_parse_and_are_labelled(name: str) -> None:
    item = parse_article_file(ARTICLES / name)
    raw = RawItem.model_validate(item)
    spec = FeedSpec()
    assert spec.start <= raw.published_at < spec.start + timedelta(days=spec.days)
    assert raw.deck and raw.importance and raw.url
    truth = ARTICLE_TRUTH[name]
    assert matches(item) == ({truth} if truth else set())


def test_every_bundled_article_is_labelled() -> None:
    assert {p.name for p in ARTICLES.glob("*.md")} == set(ARTICLE_TRUTH)
