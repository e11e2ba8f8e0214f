import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.detect.detector import SignificanceDetector


def run(det: SignificanceDetector, counts: list[int]) -> list[tuple[float, bool]]:
    state = det.initial()
    return [(d.score, d.alert) for d in (det.observe(state, c) for c in counts)]


def test_alpha_from_half_life() -> None:
    det = SignificanceDetector(half_life=10)
    assert (1 - det.alpha) ** 10 == pytest.approx(0.5)


def test_score_is_signitrend_with_beta_floor() -> None:
    det = SignificanceDetector(beta=1.0, warmup=0, min_count=1, threshold=3)
    state = {"mean": 0.2, "var": 0.25, "n": 50}
    d = det.observe(state, 7)
    # mean below beta: the floor replaces it; sqrt(var) = 0.5
    assert d.score == pytest.approx((7 - 1.0) / (0.5 + 1.0))
    assert d.baseline == 0.2
    assert d.alert


def test_ewma_update_matches_west() -> None:
    det = SignificanceDetector(half_life=5)
    a = det.alpha
    state = {"mean": 2.0, "var": 1.0, "n": 3}
    det.observe(state, 6)
    assert state["mean"] == pytest.approx(2.0 + a * 4)
    assert state["var"] == pytest.approx((1 - a) * (1.0 + a * 16))
    assert state["n"] == 4


@pytest.mark.parametrize(
    ("counts", "alerts"),
    [
        ([0] * 30 + [8], [30]),  # a burst after a quiet baseline
        ([0] * 30 + [4], []),  # below min_count
        ([0] * 10 + [8], []),  # still warming up
        ([5, 6, 5, 6] * 10 + [7], []),  # busy key: 7 is ordinary
        ([5, 6, 5, 6] * 10 + [30], [40]),
    ],
)
def test_alert_decisions(counts: list[int], alerts: list[int]) -> None:
    det = SignificanceDetector(half_life=12, threshold=3, beta=1, min_count=5, warmup=24)
    got = [i for i, (_, alert) in enumerate(run(det, counts)) if alert]
    assert got == alerts


@given(st.floats(0, 50), st.floats(0, 50), st.integers(0, 500), st.floats(1, 200))
def test_empty_windows_closed_form_equals_repeated_zero_observations(
    mean: float, var: float, k: int, half_life: float
) -> None:
    det = SignificanceDetector(half_life=half_life)
    a = {"mean": mean, "var": var, "n": 0}
    b = dict(a)
    for _ in range(k):
        det.observe(a, 0)
    det.observe_empty(b, k)
    assert b["n"] == a["n"] == k
    assert math.isclose(a["mean"], b["mean"], rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(a["var"], b["var"], rel_tol=1e-9, abs_tol=1e-12)
