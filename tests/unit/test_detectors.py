"""Table-driven tests of every detector in the library, plus properties they all share."""

import math
from datetime import UTC, datetime
from importlib.metadata import EntryPoint
from typing import Any, Literal

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.detect.detectors import (
    BUILT_IN,
    DETECTOR_KINDS,
    PLUGIN_GROUP,
    Cardinality,
    Cusum,
    DetectorBase,
    DetectorPluginError,
    Flatline,
    NewTerm,
    Observation,
    Ratio,
    Seasonal,
    SeasonalQuantile,
    Significance,
    Threshold,
    detector_registry,
    kind_of,
    parse_detector,
)
from streams.detect.detectors.seasonal import tail_score
from streams.detect.tails import log_sf_negative_binomial, log_sf_poisson

H = 3600.0
T0 = 1_780_000_000.0 // 86400 * 86400  # midnight UTC


def alerts_for(det: DetectorBase, counts: list[int], step: float = H, publishers=None) -> list[int]:
    state = det.initial()
    out = []
    for i, count in enumerate(counts):
        pubs = count if publishers is None else publishers[i]
        if det.observe(state, Observation(T0 + i * step, step, count, pubs)).alert:
            out.append(i)
    return out


def daily(day: list[int], days: int) -> list[int]:
    return day * days


QUIET_DAY = [1] * 8 + [20] * 10 + [2] * 6  # busy from 08:00 to 18:00 UTC

CASES: list[tuple[str, DetectorBase, list[int], list[int]]] = [
    ("threshold single window", Threshold(count=5), [4, 5, 2, 9], [1, 3]),
    ("threshold sliding timeframe", Threshold(count=5, windows=3), [2, 2, 1, 0, 0, 4, 1], [2, 6]),
    (
        "ratio fires on a multiple",
        Ratio(height=3, reference_windows=4, min_count=5),
        [2, 2, 2, 2, 6, 5],
        [4],
    ),
    (
        "ratio needs min_count",
        Ratio(height=3, reference_windows=4, min_count=5),
        [1, 1, 1, 1, 4],
        [],
    ),
    (
        "ratio: zero reference never fires",
        Ratio(height=3, reference_windows=3, min_count=1),
        [0, 0, 0, 50],
        [],
    ),
    (
        "ratio waits for a full reference",
        Ratio(height=2, reference_windows=4, min_count=1),
        [2, 2, 9],
        [],
    ),
    ("ratio down", Ratio(height=4, reference_windows=3, direction="down"), [8, 8, 8, 1, 0], [3, 4]),
    (
        "ratio both",
        Ratio(height=4, reference_windows=2, min_count=1, direction="both"),
        [5, 5, 30, 40, 1],
        [2, 4],
    ),
    (
        "significance burst",
        Significance(half_life=12, threshold=3, warmup=24),
        [0] * 30 + [8],
        [30],
    ),
    (
        "significance warm-up",
        Significance(half_life=12, threshold=3, warmup=24),
        [0] * 10 + [8],
        [],
    ),
    (
        "significance busy key",
        Significance(half_life=12, threshold=3, warmup=24),
        [5, 6] * 20 + [7],
        [],
    ),
    (
        "significance below min_count",
        Significance(half_life=12, threshold=3, warmup=24),
        [0] * 30 + [4],
        [],
    ),
    ("seasonal: daytime volume is normal", Seasonal(p_value=1e-4), daily(QUIET_DAY, 5), []),
    ("seasonal: 20 at night is a burst", Seasonal(p_value=1e-4), [*daily(QUIET_DAY, 4), 20], [96]),
    ("seasonal: warm-up", Seasonal(p_value=1e-4, warmup=2), [*daily(QUIET_DAY, 1), 20], []),
    ("seasonal_quantile: a slot's first window only sets its level", SeasonalQuantile(), [50], []),
    (
        "seasonal_quantile: a burst near the key's record",
        SeasonalQuantile(smooth=1, quantile_floor=3),
        [*daily(QUIET_DAY, 3), 25],
        [72],
    ),
    ("cusum slow rise", Cusum(half_life=200, k=0.5, h=5, warmup=20), [2] * 40 + [4] * 6, [43]),
    (
        "cusum one blip is not a rise",
        Cusum(half_life=200, k=0.5, h=5, warmup=20),
        [2] * 40 + [4] + [2] * 5,
        [],
    ),
    ("flatline", Flatline(windows=3), [4, 2, 0, 0, 0, 0, 0, 0, 1], [4, 7]),
    ("flatline below a floor", Flatline(windows=2, below=3), [5, 5, 2, 1, 6], [3]),
    ("flatline: never active", Flatline(windows=2, warmup=1), [0, 0, 0, 0], []),
    ("new_term first arrival", NewTerm(), [0, 0, 1, 3, 0, 2], [2]),
    ("new_term min_count", NewTerm(min_count=3), [1, 2, 3, 5], [2]),
    (
        "new_term learns before since",
        NewTerm(since=datetime.fromtimestamp(T0 + 2 * H, UTC)),
        [1, 0, 0, 1],
        [],
    ),
    (
        "new_term after since",
        NewTerm(since=datetime.fromtimestamp(T0 + 2 * H, UTC)),
        [0, 0, 0, 1],
        [3],
    ),
]


@pytest.mark.parametrize(
    ("det", "counts", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_alert_decisions(det: DetectorBase, counts: list[int], expected: list[int]) -> None:
    assert alerts_for(det, counts) == expected


@pytest.mark.parametrize(
    ("det", "counts", "publishers", "expected"),
    [
        (Cardinality(max_publishers=5), [9, 9, 9], [5, 6, 2], [1]),
        (Cardinality(min_publishers=2, min_count=5), [9, 3, 9], [1, 1, 4], [0]),
        (Cardinality(min_publishers=2, max_publishers=10), [9, 20], [1, 11], [0, 1]),
    ],
)
def test_cardinality_bounds(
    det: Cardinality, counts: list[int], publishers: list[int], expected: list[int]
) -> None:
    assert alerts_for(det, counts, publishers=publishers) == expected


def test_seasonal_half_life_is_in_periods_whatever_the_window() -> None:
    hourly, five_min = Seasonal(half_life=1), Seasonal(half_life=1)
    a, b = hourly.initial(), five_min.initial()
    for day, per_hour in enumerate((12, 24)):
        for hour in range(24):
            start = T0 + day * 86400 + hour * H
            hourly.observe(a, Observation(start, H, per_hour))
            for k in range(12):
                five_min.observe(b, Observation(start + k * 300, 300, per_hour // 12))
    # A half-life of one period: after the second day, each day weighs half.
    assert a["mean"][5] == pytest.approx(18)
    assert b["mean"][5] == pytest.approx(1.5, rel=0.03)  # warm start: plain average at first


def test_seasonal_local_hour() -> None:
    det = Seasonal(utc_offset=3)
    state = det.initial()
    det.observe(state, Observation(T0 + 22 * H, H, 4))  # 22:00 UTC is 01:00 at UTC+3
    assert state["mean"][1] > 0 and state["mean"][22] == 0


def test_every_kind_is_registered_and_parsed_from_a_mapping() -> None:
    # Found in the library's modules, the ones the package exports by name among them: a
    # new detector's module is enough to register it.
    import streams.detect.detectors as library

    exported = {
        value
        for value in vars(library).values()
        if isinstance(value, type)
        and issubclass(value, DetectorBase)
        and isinstance(value.model_fields["kind"].default, str)
    }
    assert exported <= set(BUILT_IN) and Threshold in exported
    assert {kind_of(cls): cls for cls in BUILT_IN} == DETECTOR_KINDS  # no plugin installed
    det = parse_detector({"kind": "seasonal", "period": "week", "realert": {"cooldown": "6h"}})
    assert isinstance(det, Seasonal) and det.slots == 168 and det.realert.cooldown == 6 * H
    assert det.params["realert_cooldown"] == 6 * H and "name" not in det.params


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"kind": "nope"}, "does not match any of the expected tags"),
        ({"kind": "threshold"}, "count"),
        ({"kind": "cardinality"}, "max_publishers, min_publishers"),
        ({"kind": "ratio", "height": 0.5}, "greater than 1"),
        ({"kind": "significance", "realert": {"cooldown": "soon"}}, "not a duration"),
        ({"kind": "cusum", "colour": 1}, "Extra inputs"),
    ],
)
def test_bad_entries_say_what_is_wrong(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_detector(entry)


SAMPLES = [
    Threshold(count=3, windows=4),
    Ratio(reference_windows=5, direction="both"),
    Significance(),
    Seasonal(period="week"),
    SeasonalQuantile(smooth=3),
    Cusum(),
    Flatline(windows=4),
    NewTerm(),
    Cardinality(max_publishers=3),
]


@pytest.mark.parametrize("det", SAMPLES, ids=lambda d: d.kind)
@settings(max_examples=40, deadline=None)
@given(
    before=st.lists(st.integers(0, 60), max_size=40),
    gap=st.integers(0, 60),
    after=st.lists(st.integers(0, 60), max_size=10),
)
def test_skipping_empty_windows_equals_observing_them(
    det: DetectorBase, before: list[int], gap: int, after: list[int]
) -> None:
    """Closing a gap in one call must decide and leave the state as observing each window."""
    a, b = det.initial(), det.initial()
    i = 0
    for count in before:
        for s in (a, b):
            det.observe(s, Observation(T0 + i * H, H, count, count))
        i += 1
    one_by_one = []
    for k in range(gap):
        obs = Observation(T0 + (i + k) * H, H, 0)
        if det.observe(a, obs).alert:
            one_by_one.append(obs.start)
    assert [obs.start for obs, _ in det.observe_empty(b, T0 + i * H, H, gap)] == one_by_one
    i += gap
    for count in after:
        da = det.observe(a, Observation(T0 + i * H, H, count, count))
        db = det.observe(b, Observation(T0 + i * H, H, count, count))
        assert da.alert == db.alert
        assert math.isclose(da.score, db.score, rel_tol=1e-9, abs_tol=1e-9)
        i += 1
    assert _close(a, b)


@pytest.mark.parametrize("det", SAMPLES, ids=lambda d: d.kind)
@settings(max_examples=20, deadline=None)
@given(counts=st.lists(st.integers(0, 10_000), max_size=60))
def test_state_survives_json_and_decisions_are_finite(det: DetectorBase, counts: list[int]) -> None:
    state = det.initial()
    for i, count in enumerate(counts):
        d = det.observe(state, Observation(T0 + i * H, H, count, count // 2))
        assert math.isfinite(d.score) and math.isfinite(d.strength) and math.isfinite(d.baseline)
        state = orjson.loads(orjson.dumps(state))


def _close(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)  # type: ignore[arg-type]
    return a == b


@settings(max_examples=300, deadline=None)
@given(
    expected=st.floats(0.5, 5000),
    spread=st.floats(1.0, 20_000.0),
    count=st.integers(1, 20_000),
    p_value=st.sampled_from([1e-2, 1e-4, 1e-8]),
)
def test_seasonal_shortcut_never_changes_an_alert(
    expected: float, spread: float, count: int, p_value: float
) -> None:
    """The normal stand-in near the mean must decide exactly as the exact tail would."""
    var = expected * spread
    exact = -_exact_log_sf(count, expected, var) / math.log(10)
    bound = -math.log10(p_value)
    assert (tail_score(count, expected, var) >= bound) == (exact >= bound)


def _exact_log_sf(count: int, expected: float, var: float) -> float:
    if count <= expected:
        return 0.0
    if var > expected:
        return log_sf_negative_binomial(count, expected, expected**2 / (var - expected))
    return log_sf_poisson(count, expected)


class Burstiness(Threshold):
    """A plugin's detector, as another package would declare it."""

    kind: Literal["burstiness"] = "burstiness"


class Imposter(Threshold):
    kind: Literal["threshold"] = "threshold"


def _plugin(value: str) -> EntryPoint:
    return EntryPoint(name=value.rpartition(":")[2], value=value, group=PLUGIN_GROUP)


def test_plugins_join_the_registry_under_their_kind() -> None:
    kinds = detector_registry([_plugin(f"{__name__}:Burstiness")])
    assert kinds["burstiness"] is Burstiness
    assert list(kinds)[: len(BUILT_IN)] == [kind_of(cls) for cls in BUILT_IN]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (f"{__name__}:Imposter", "takes the kind 'threshold'"),
        (f"{__name__}:Observation", "is not a subclass of DetectorBase"),
        (f"{__name__}:Nowhere", "has no attribute"),
        ("no_such_module_anywhere:Detector", "No module named"),
    ],
)
def test_a_plugin_that_cannot_be_used_is_refused_with_the_reason(value: str, message: str) -> None:
    with pytest.raises(DetectorPluginError, match=message):
        detector_registry([_plugin(value)])
