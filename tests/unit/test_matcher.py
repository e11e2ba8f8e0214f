from hypothesis import given
from hypothesis import strategies as st

from streams.signals.matcher import Matcher
from streams.signals.watchlist import Watchlist, load_watchlist

MATCHER = Matcher(load_watchlist())


def signals(title: str, body: str = "", region: str | None = "Baltics") -> set[str]:
    return {m.signal_id for m in MATCHER.match(title, [body], region, 5)}


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
    [m] = MATCHER.match(
        "Belarusian men fleeing to Poland",
        ["Military-aged men crossed at night."],
        "Eastern Europe",
        6,
    )
    assert m.key == "belarus-men-crossing-eu|eastern-europe"
    assert {"belarusian*", "men", "military-aged", "fleeing", "poland"} <= set(m.terms)


def test_prefix_terms_phrases_across_punctuation_and_case() -> None:
    wl = Watchlist.model_validate(
        {
            "version": "t",
            "signals": [
                {
                    "id": "s",
                    "all_of": [
                        {"name": "a", "terms": ["conscript*"]},
                        {"name": "b", "terms": ["union state"]},
                    ],
                }
            ],
        }
    )
    m = Matcher(wl)
    assert m.match("CONSCRIPTION rules", ["the Union-State treaty"], None, None)
    assert m.match("conscripts", ["UNION   STATE"], None, None)
    assert not m.match("conscript", ["union statement"], None, None)
    assert not m.match("inconscriptable", ["union state"], None, None)
    assert m.match("x", ["conscripts of the union state"], None, None)[0].region == "unknown"


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
    assert m.match("drone strike", [], "Eastern Europe", 5)
    assert not m.match("toy drone sale", [], "Eastern Europe", 5)
    assert not m.match("drone strike", [], "Baltics", 5)
    assert not m.match("drone strike", [], "eastern-europe", 4)
    assert not m.match("drone strike", [], "eastern-europe", None)


@given(st.text(max_size=300))
def test_matching_never_fails_and_is_deterministic(text: str) -> None:
    first = MATCHER.match(text, [text], text[:20] or None, 5)
    assert first == MATCHER.match(text, [text], text[:20] or None, 5)


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
    [hit] = m.match("Weather", ["Rain later"], "Baltics", None, "Delfi Daily")
    assert (hit.key, hit.region, hit.terms) == ("any-report|delfi-daily", "all", ())
    assert m.match("Weather", [], "Eastern Europe", None, "Delfi Daily") == []
    keys = [h.key for h in m.match("Union State", [], "Baltics", None, None)]
    assert keys == ["any-report|unknown", "union|baltics"]
