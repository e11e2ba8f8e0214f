import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.detect.windows import WindowSpec

H = 3600.0


@pytest.mark.parametrize(
    ("spec", "ts", "starts"),
    [
        (WindowSpec(H, H), 0.0, [0.0]),
        (WindowSpec(H, H), 3599.9, [0.0]),
        (WindowSpec(H, H), 3600.0, [3600.0]),
        (WindowSpec(3 * H, H), 3.5 * H, [H, 2 * H, 3 * H]),
        (WindowSpec(2 * H, H), 2 * H, [H, 2 * H]),
        (WindowSpec(H, H), -1.0, [-H]),
    ],
)
def test_window_starts(spec: WindowSpec, ts: float, starts: list[float]) -> None:
    assert spec.starts(ts) == starts


def test_close_time_includes_grace() -> None:
    spec = WindowSpec(H, H, grace=900)
    assert spec.closes_at(0.0) == H + 900
    assert spec.last_closable(H + 899) == -H
    assert spec.last_closable(H + 900) == 0.0


def test_invalid_specs_are_refused() -> None:
    with pytest.raises(ValueError):
        WindowSpec(H, 2 * H)
    with pytest.raises(ValueError):
        WindowSpec(0, 0)
    with pytest.raises(ValueError):
        WindowSpec(H, H, grace=-1)


@given(
    st.floats(min_value=-1e9, max_value=1e10, allow_nan=False),
    st.sampled_from([(H, H), (3 * H, H), (2 * H, H), (H, 900.0), (86400.0, H)]),
)
def test_every_instant_is_in_size_over_step_windows_that_contain_it(
    ts: float, size_step: tuple[float, float]
) -> None:
    size, step = size_step
    starts = WindowSpec(size, step).starts(ts)
    assert len(starts) == round(size / step)
    assert all(s <= ts < s + size for s in starts)
    assert starts == sorted(starts)
