import copy
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.models import RawItem
from streams.signals.matcher import Match, Matcher
from streams.signals.text import _NO_HK, screen_line, tokens, word_line
from streams.signals.watchlist import Watchlist, flat_terms, load_watchlist
from streams.sources.samplefeed import generate

MATCHER = Matcher(load_watchlist())


def match(
    matcher: Matcher,
    title: str,
    texts: list[str] | tuple[str, ...] = (),
    region: str | None = None,
    importance: int | None = None,
    publisher: str | None = None,
    category: str | None = None,
) -> list[Match]:
    """Match an item built from its parts (validation skipped: any text goes)."""
    item = RawItem.model_construct(
        id="t",
        title=title,
        body=" ".join(texts),
        deck=None,
        region=region,
        importance=importance,
        publisher=publisher,
        category=category,
    )
    return matcher.match(item)


def signals(title: str, body: str = "", region: str | None = "Baltics") -> set[str]:
    return {m.signal_id for m in match(MATCHER, title, [body], region, 5)}


def test_genuine_report_of_each_signal_matches_only_that_signal() -> None:
    cases = {
        "belarus-men-crossing-eu": (
            "Surge of Belarusian men crossing into Lithuania",
            "Border guards say draft-age men arrived overnight.",
        ),
        "union-state-conscription-harmonization": (
            "Minsk and Moscow discuss harmonising conscription",
            "Officials want common rules for military service across the Union State.",
        ),
        "union-state-joint-units": (
            "Union State to form joint brigade",
            "The two defence ministries announced the new formation.",
        ),
        "belarus-service-law-change": (
            "Belarus amends law on military service",
            "The amendment covers citizens residing in Russia.",
        ),
        "belarusians-in-russian-formations": (
            "Belarusian volunteers spotted in Russian units",
            "Photos show the men in a Russian regiment near the front.",
        ),
    }
    for signal_id, (title, body) in cases.items():
        assert signals(title, body) == {signal_id}, signal_id


def test_near_misses_do_not_match() -> None:
    assert signals("Russia and Belarus sign gas deal under the Union State framework") == set()
    assert signals("Polish truckers block border crossing with Belarus") == set()
    assert signals("Belarusian hockey team travels to Riga, Latvia") == set()


def test_hit_carries_region_slug_key_and_matched_terms() -> None:
    [m] = match(
        MATCHER,
        "Belarusian men fleeing to Poland",
        ["Military-aged men crossed at night."],
        "Eastern Europe",
        6,
    )
    assert m.key == "belarus-men-crossing-eu|eastern-europe"
    assert {"belarusian*", "men", "military-aged", "fleeing", "poland"} <= set(m.terms)


def two_groups(signal_id: str, a: list[str], b: list[str]) -> Watchlist:
    """A watchlist of one signal with two term groups."""
    groups = [{"name": "a", "terms": a}, {"name": "b", "terms": b}]
    return Watchlist.model_validate(
        {"version": "t", "signals": [{"id": signal_id, "all_of": groups}]}
    )


def test_prefix_terms_phrases_across_punctuation_and_case() -> None:
    m = Matcher(two_groups("s", ["conscript*"], ["union state"]))
    assert match(m, "CONSCRIPTION rules", ["the Union-State treaty"], None, None)
    assert match(m, "conscripts", ["UNION   STATE"], None, None)
    assert not match(m, "conscript", ["union statement"], None, None)
    assert not match(m, "inconscriptable", ["union state"], None, None)
    assert match(m, "x", ["conscripts of the union state"], None, None)[0].region == "unknown"


def test_exclusions_and_metadata_filters() -> None:
    wl = Watchlist.model_validate(
        {
            "version": "t",
            "signals": [
                {
                    "id": "s",
                    "all_of": [{"name": "a", "terms": ["drone"]}],
                    "exclude": ["toy drone"],
                    "regions": ["Eastern Europe"],
                    "min_importance": 5,
                }
            ],
        }
    )
    m = Matcher(wl)
    assert match(m, "drone strike", [], "Eastern Europe", 5)
    assert not match(m, "toy drone sale", [], "Eastern Europe", 5)
    assert not match(m, "drone strike", [], "Baltics", 5)
    assert not match(m, "drone strike", [], "eastern-europe", 4)
    assert not match(m, "drone strike", [], "eastern-europe", None)


@given(st.text(max_size=300))
def test_matching_never_fails_and_is_deterministic(text: str) -> None:
    first = match(MATCHER, text, [text], text[:20] or None, 5)
    assert first == match(MATCHER, text, [text], text[:20] or None, 5)


def test_a_signal_without_groups_keyed_by_publisher_matches_every_item() -> None:
    wl = Watchlist.model_validate(
        {
            "version": "t",
            "signals": [
                {"id": "any-report", "key_by": "publisher", "regions": ["Baltics"]},
                {"id": "union", "all_of": [{"name": "u", "terms": ["union state"]}]},
            ],
        }
    )
    m = Matcher(wl)
    [hit] = match(m, "Weather", ["Rain later"], "Baltics", None, "Delfi Daily")
    assert (hit.key, hit.region, hit.terms) == ("any-report|delfi-daily", "all", ())
    assert match(m, "Weather", [], "Eastern Europe", None, "Delfi Daily") == []
    keys = [h.key for h in match(m, "Union State", [], "Baltics", None, None)]
    assert keys == ["any-report|unknown", "union|baltics"]


def one_signal(**signal: object) -> Matcher:
    return Matcher(Watchlist.model_validate({"version": "t", "signals": [{"id": "s", **signal}]}))


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("беларус*", "Belarusian men"),  # Cyrillic term, English text
        ("belarus*", "беларусы ўцякаюць"),  # Latin term, Belarusian Cyrillic
        ("białoru*", "Bialorusini uciekaja"),  # diacritics dropped in sloppy text
        ("bialoru*", "Białorusinów"),
        ("baltkriev*", "baltkrievu vīrieši"),
        ("призыв*", "prizyvnikov iz Belarusi"),  # Russian term, Latin transliteration
        ("вайсковая служба", "вайсковай службы"),  # no: inflected without a '*'
    ],
)
def test_folding_meets_spellings_across_scripts_and_diacritics(term: str, text: str) -> None:
    m = one_signal(all_of=[{"name": "g", "terms": [term]}])
    assert bool(match(m, text)) is (term != "вайсковая служба")


def test_terms_per_language_and_the_sentence_where_they_met() -> None:
    m = one_signal(
        all_of=[
            {"name": "who", "terms": {"en": ["belarusian*"], "pl": ["białorusin*"]}},
            {"name": "what", "terms": {"en": ["crossing*"], "pl": ["przekracza*"]}},
        ],
        within="sentence",
    )
    [hit] = match(m, "Raport", ["Pogoda dobra. Białorusini przekraczają granicę nocą! Koniec."])
    assert hit.sentence == "Białorusini przekraczają granicę nocą!"
    assert set(hit.terms) == {"białorusin*", "przekracza*"}
    # The same words in different sentences do not meet.
    assert match(m, "Białorusini w Warszawie", ["Ciężarówki przekraczają granicę."]) == []


@pytest.mark.parametrize(
    ("within", "text", "matches"),
    [
        ("item", "Belarus wins. Crossing delays at the border.", True),
        ("sentence", "Belarus wins. Crossing delays at the border.", False),
        (4, "Belarus men are crossing", True),
        (3, "Belarus men are crossing", False),
        (3, "crossing men Belarus", True),
    ],
)
def test_co_occurrence_scope(within: object, text: str, matches: bool) -> None:
    m = one_signal(
        all_of=[{"name": "a", "terms": ["belarus"]}, {"name": "b", "terms": ["crossing"]}],
        within=within,
    )
    assert bool(match(m, text)) is matches


def test_category_filter_and_weight_travel_with_the_hit() -> None:
    m = one_signal(all_of=[{"name": "a", "terms": ["drone"]}], categories=["Security"], weight=2)
    [hit] = match(m, "Drone strike", category="security")
    assert hit.weight == 2
    assert match(m, "Drone show", category="culture") == []
    assert match(m, "Drone show") == []


def test_prefixes_ending_in_k_survive_the_kh_skeleton() -> None:
    m = one_signal(all_of=[{"name": "a", "terms": ["kazak*"]}, {"name": "b", "terms": ["stock*"]}])
    assert match(m, "Kazakhstan and Kazakh troops", ["Stockholm talks"])


@pytest.mark.parametrize(
    ("text", "within", "matches"),
    [
        ("alpha x union state", 4, True),
        ("alpha x union state", 3, False),  # the phrase ends four words after alpha
        ("union state x alpha", 3, False),
        ("union state alpha", 3, True),
    ],
)
def test_a_phrase_counts_to_its_last_word_in_a_word_window(
    text: str, within: int, matches: bool
) -> None:
    m = one_signal(
        all_of=[{"name": "a", "terms": ["alpha"]}, {"name": "b", "terms": ["union state"]}],
        within=within,
    )
    assert bool(match(m, text)) is matches


@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 40), st.integers(0, 3)), min_size=1, max_size=5),
        min_size=1,
        max_size=4,
    )
)
def test_shortest_span_agrees_with_brute_force(raw: list[list[tuple[int, int]]]) -> None:
    from itertools import product

    from streams.signals.matcher import _shortest_span

    per_group = [sorted((s, s + extra) for s, extra in group) for group in raw]
    got = _shortest_span(per_group)
    best = min(
        max(e for _, e in choice) - min(s for s, _ in choice) for choice in product(*per_group)
    )
    assert got is not None and got[1] - got[0] == best


def test_the_whole_item_candidate_scan_changes_no_hit() -> None:
    """Items without a candidate for every group of some signal stop before sentences are
    cut: on the labelled corpus and the sample feed, the hits are those of the full path."""
    corpus = Path(__file__).resolve().parents[1] / "data" / "signal_corpus.jsonl"
    rows = [orjson.loads(line) for line in corpus.read_bytes().splitlines() if line.strip()]
    items = [RawItem.model_validate(i) for i in [*rows, *generate()]]
    screened = Matcher(load_watchlist())
    full = copy.copy(screened)
    full.may_match = lambda _text: True  # type: ignore[method-assign]
    stopped = 0
    for item in items:
        assert screened.match(item) == full.match(item)
        text = " ".join(p for p in (item.title, item.deck, item.body) if p)
        stopped += not screened.may_match(text)
    assert stopped > len(items) // 2  # most items are done with by the scan


def test_the_candidate_scan_folds_as_the_sentences_do() -> None:
    """Folding drops an apostrophe only in text with non-ASCII letters or marks: an item
    folded whole would read "russias" where its own sentence reads "russia s"."""
    watchlist = two_groups("russia-army", ["russia"], ["army"])
    for body in ["Минск молчит.", "Officials said the move was planned – and expected."]:
        hits = match(Matcher(watchlist), "Russia's army moves west", [body])
        assert [m.signal_id for m in hits] == ["russia-army"]


@given(
    st.text(alphabet=st.sampled_from("zkcshjy -'.éЖх\u0301ﬁ_3"), max_size=40) | st.text(max_size=80)
)
def test_the_whole_item_word_line_holds_the_tokens(text: str) -> None:
    # The candidate scan's fast fold must cut and spell words exactly as matching does.
    assert word_line(text) == " ".join(tokens(text))


@given(st.text(alphabet=st.sampled_from("zkhcsjyKHZ -'.éЖх\u0301ﬁ_3"), max_size=40) | st.text())
def test_the_screen_line_is_the_word_line_without_h_and_k(text: str) -> None:
    assert screen_line(text) == " ".join(word_line(text).translate(_NO_HK).split())


_BUNDLED = load_watchlist()
_REGIONS = [*sorted({r for s in _BUNDLED.signals for r in s.regions or ()}), None]
_TERMS = sorted({t for s in _BUNDLED.signals for g in s.all_of for t in flat_terms(g.terms)})


@given(
    st.lists(
        st.tuples(st.sampled_from(_TERMS), st.sampled_from(["", "s", "ian", "kh"])).map(
            lambda t: t[0].replace("*", t[1])
        )
        | st.sampled_from(["the", "kh", "Zh", "men", "Belarus'", "Minsk", "ł", "Shah", "a"]),
        min_size=1,
        max_size=30,
    ),
    st.lists(st.sampled_from([" ", ", ", "-", ". ", "\n", " — ", "'s "]), min_size=1),
    st.booleans(),
    st.sampled_from(_REGIONS),
)
def test_the_screen_never_stops_an_item_that_matches(
    words: list[str], seps: list[str], upper: bool, region: str | None
) -> None:
    text = "".join(w + seps[i % len(seps)] for i, w in enumerate(words))
    text = text.upper() if upper else text
    screened = Matcher(_BUNDLED)
    full = copy.copy(screened)
    full.may_match = lambda _text: True  # type: ignore[method-assign]
    if match(full, text, region=region, importance=10, category="security"):
        assert screened.may_match(text)
