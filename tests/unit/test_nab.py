"""The NAB scorer on cases worked out by hand from the published rules."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.backtest.nab import STANDARD, Costs, normalised, probation_rows, score_series

N = 2000  # probation: 15% = 300 rows
WINDOWS = [(1000, 1099), (1500, 1599)]  # width 100 each


def alerts_at(*rows: int, n: int = N) -> list[bool]:
    out = [False] * n
    for r in rows:
        out[r] = True
    return out


def s(y: float) -> float:
    return 2 / (1 + math.exp(5 * y)) - 1


def test_probation_is_fifteen_percent_capped_at_750_rows() -> None:
    assert probation_rows(2000) == 300
    assert probation_rows(15_902) == 750


def test_never_alerting_scores_zero_and_alerting_each_window_start_scores_100() -> None:
    never = score_series(alerts_at(), WINDOWS)
    assert (never.raw, never.null, never.perfect, never.normalised) == (-2.0, -2.0, 2.0, 0.0)
    perfect = score_series(alerts_at(1000, 1500), WINDOWS)
    assert perfect.raw == pytest.approx(2.0) and perfect.normalised == pytest.approx(100.0)


def test_only_the_earliest_alert_in_a_window_counts() -> None:
    mid = score_series(alerts_at(1050, 1060, 1099), WINDOWS[:1])
    assert mid.raw == pytest.approx(s(-50 / 100) / s(-1))
    assert mid.detected == 1 and mid.false_alerts == 0


def test_false_alerts_cost_less_right_after_a_window() -> None:
    before = score_series(alerts_at(500), WINDOWS[:1]).raw + 1.0  # the missed window: -1
    assert before == pytest.approx(-0.11)
    just_after = score_series(alerts_at(1109), WINDOWS[:1]).raw + 1.0
    assert just_after == pytest.approx(0.11 * s(10 / 99))
    far_after = score_series(alerts_at(1099 + 400), WINDOWS[:1]).raw + 1.0
    assert far_after == pytest.approx(-0.11)


def test_probation_rows_neither_earn_nor_cost() -> None:
    windows = [(200, 399)]  # straddles the end of probation at row 300
    early = score_series(alerts_at(100, 250), windows)
    assert early.raw == -1.0 and early.false_alerts == 0
    late = score_series(alerts_at(300), windows)
    assert late.raw == pytest.approx(s(-(399 - 300 + 1) / 200) / s(-1))
    # A window wholly inside probation is not scored, but still counts towards perfect.
    hidden = score_series(alerts_at(), [(10, 20)])
    assert (hidden.windows, hidden.null, hidden.perfect) == (0, -0.0, 1.0)


def test_costs_and_overlap() -> None:
    costs = Costs(tp=1.0, fp=0.22, fn=2.0)
    assert score_series(alerts_at(500), WINDOWS, costs).raw == pytest.approx(-0.22 - 4.0)
    with pytest.raises(ValueError, match="overlap"):
        score_series(alerts_at(), [(100, 200), (150, 300)])


@given(st.lists(st.integers(0, N - 1), max_size=30))
def test_normalised_score_is_at_most_100(rows: list[int]) -> None:
    score = score_series(alerts_at(*rows), WINDOWS, STANDARD)
    assert score.normalised <= 100.0 + 1e-9
    assert normalised(score.raw, score.null, score.perfect) == score.normalised
