"""Window arithmetic of a time scale: which windows hold an instant, when one is judged
and when it is final."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.detect.scales import Scale, ScaleSpec

H = 3600.0


@pytest.mark.parametrize(
    ("scale", "ts", "oldest", "newest"),
    [
        (Scale("1h", H, H, 4 * H), 0.0, 0.0, 0.0),
        (Scale("1h", H, H, 4 * H), 3599.9, 0.0, 0.0),
        (Scale("1h", H, H, 4 * H), 3600.0, H, H),
        (Scale("3h", 3 * H, H, 4 * H), 3.5 * H, H, 3 * H),
        (Scale("1h", H, H, 4 * H), -1.0, -H, -H),
    ],
)
def test_windows_holding_an_instant(scale: Scale, ts: float, oldest: float, newest: float) -> None:
    assert (scale.oldest_start(ts), scale.newest_start(ts)) == (oldest, newest)


def test_a_window_is_judged_after_grace_and_final_after_lateness() -> None:
    scale = Scale("1h", H, H, 4 * H, grace=900)
    assert scale.last_judged(H + 899) == -H and scale.last_judged(H + 900) == 0.0
    assert scale.last_final(5 * H - 1) == -H and scale.last_final(5 * H) == 0.0
    assert scale.accepts(60.0, 5 * H - 1) and not scale.accepts(60.0, 5 * H)


def test_invalid_scales_are_refused() -> None:
    with pytest.raises(ValueError):
        ScaleSpec(size=H, step=2 * H)
    with pytest.raises(ValueError):
        ScaleSpec(size=0)
    with pytest.raises(ValueError):
        ScaleSpec(size=H, lateness=-1)


def test_lateness_is_never_below_grace() -> None:
    assert ScaleSpec(size=H, lateness=60).build(grace=900).lateness == 900


@given(
    st.floats(min_value=-1e9, max_value=1e10, allow_nan=False),
    st.sampled_from([(H, H), (3 * H, H), (2 * H, H), (H, 900.0), (86400.0, H)]),
)
def test_every_instant_is_in_size_over_step_windows_that_hold_it(
    ts: float, size_step: tuple[float, float]
) -> None:
    size, step = size_step
    scale = Scale("s", size, step, 0.0)
    first, last = scale.oldest_start(ts), scale.newest_start(ts)
    assert round((last - first) / step) + 1 == round(size / step)
    assert first <= ts < first + size and last <= ts < last + size
