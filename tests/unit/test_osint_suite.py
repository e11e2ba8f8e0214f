"""The OSINT scenario suite: what its feeds are made of, and how it scores alerts."""

import itertools
from datetime import UTC, datetime

from streams.backtest.osint import SHAPES, scenario, score
from streams.fingerprint import fingerprint, similarity
from streams.models import Alert, DetectorInfo, RawItem
from streams.signals.matcher import Matcher
from streams.signals.watchlist import load_watchlist

MATCHER = Matcher(load_watchlist())


def _prints(items: list[dict[str, object]]) -> list[str]:
    out = []
    for item in items:
        mark = fingerprint(str(item["title"]), str(item["body"]))
        assert mark is not None
        out.append(mark)
    return out


def test_a_scenario_is_the_same_for_the_same_seed_and_new_for_another() -> None:
    a, b, c = scenario("medium", 3), scenario("medium", 3), scenario("medium", 4)
    assert a.items == b.items and a.arrivals == b.arrivals
    assert a.items != c.items


def test_bursts_are_distinct_reports_of_their_signal_in_their_shape() -> None:
    for kind, shape in SHAPES.items():
        case = scenario(kind, 2)
        assert case.burst is not None
        burst = [i for i in case.items if str(i["id"]).endswith("-burst")]
        assert len(burst) == shape.reports
        for item in burst:  # signals overlap: a report may hit a related signal too
            keys = {m.key for m in MATCHER.match(RawItem.model_validate(item))}
            assert case.burst.key in keys, kind
        assert case.burst.last - case.burst.first <= shape.hours * 3600
        assert len({i["publisher"] for i in burst}) >= min(shape.reports, 10)
        prints = _prints(burst)
        assert max(similarity(x, y) for x, y in itertools.combinations(prints, 2)) < 0.6
        if shape.night:
            assert datetime.fromtimestamp(case.burst.first, UTC).hour < 3
        if shape.multilingual:
            assert {i["language"] for i in burst} == {"ru", "be", "uk"}


def test_a_storm_is_one_story_from_25_outlets() -> None:
    case = scenario("quiet", 1)
    assert case.burst is None and len(case.storms) == 2
    storm = [i for i in case.items if "-storm0-" in str(i["id"])]
    assert len({i["publisher"] for i in storm}) == 25
    first, *copies = _prints(storm)
    assert min(similarity(first, other) for other in copies) >= 0.6


def test_outlets_are_collected_late_in_the_stated_mix_and_delivery_follows_arrival() -> None:
    case = scenario("sharp", 1)
    assert case.arrivals == sorted(case.arrivals)
    delays = [
        arrival - datetime.fromisoformat(str(i["published_at"])).timestamp()
        for arrival, i in zip(case.arrivals, case.items, strict=True)
    ]
    assert min(delays) >= 0 and max(delays) <= 4 * 3600
    late = sum(d > 3600 for d in delays) / len(delays)
    assert 0.02 < late < 0.25  # about a tenth of the outlets are one to four hours late
    assert 250 <= len(case.items) / case.days <= 300


def alert(key: str, start: float, hours: float, burst: str, update: str = "opened") -> Alert:
    return Alert(
        alert_id=f"{burst}-{update}",
        burst_id=burst,
        update=update,  # type: ignore[arg-type]
        signal_id=key.split("|")[0],
        key=key,
        region="r",
        scale="1h",
        window_start=datetime.fromtimestamp(start, UTC),
        window_end=datetime.fromtimestamp(start + hours * 3600, UTC),
        count=5,
        baseline=0.5,
        score=5.0,
        severity="warning",
        publishers=3,
        detector=DetectorInfo(name="d", kind="d", params={}),
        evidence=[],
        generated_at=datetime.now(UTC),
        watchlist_version="v",
    )


def test_score_counts_a_found_burst_once_with_its_delay_and_other_bursts_as_false() -> None:
    case = scenario("medium", 1)
    burst = case.burst
    assert burst is not None
    begin = burst.first // 3600 * 3600
    alerts = [
        alert(burst.key, begin, 1, "b1"),
        alert(burst.key, begin - 5 * 3600, 6, "b1", "scale"),
        alert(burst.key, begin - 10 * 86400, 1, "b0"),  # days before: false
        alert("other|r", begin, 1, "b2"),  # another key: false
    ]
    card = score(case, alerts, grace=900)
    assert card.found == {"medium": 1} and card.false_alerts == 2
    assert card.delays["medium"] == [(begin + 3600 + 900 - burst.first) / 3600]
    assert card.alerts_per_burst == [2]
    assert score(case, [], grace=900).found == {}
