import pytest

from streams.detect.detectors import Observation, Threshold
from streams.detect.realert import Realert, parse_duration
from streams.detect.suite import DetectorSuite

H = 3600.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("6h", 21600),
        ("2d", 172800),
        ("1w", 604800),
        ("1.5h", 5400),
        (30, 30),
    ],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert Realert(cooldown=text).cooldown == seconds


def test_bad_duration_and_bounds() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")
    with pytest.raises(ValueError, match="max_cooldown"):
        Realert(cooldown="2h", max_cooldown="1h")


def permitted(rule: Realert, hours: list[float]) -> list[float]:
    state: dict = {}
    return [h for h in hours if rule.permit(state, h * H)]


@pytest.mark.parametrize(
    ("rule", "hours", "expected"),
    [
        (Realert(), [1, 2, 3], [1, 2, 3]),
        (Realert(cooldown="2h"), [1, 2, 3, 4, 5], [1, 3, 5]),
        # Back-off doubles the quiet time while alerts keep coming: 1h, 2h, 4h (capped at 4h)...
        (
            Realert(cooldown="1h", backoff=2, max_cooldown="4h"),
            list(range(1, 20)),
            [1, 2, 4, 8, 12, 16],
        ),
        # ...and falls back to the cooldown after a calm of twice the current quiet time.
        (Realert(cooldown="1h", backoff=2), [1, 2, 4, 30, 31], [1, 2, 4, 30, 31]),
        # An alert exactly twice the quiet time later still counts as recurring.
        (Realert(cooldown="1d", backoff=2), [0, 48, 96, 144, 192], [0, 48, 96, 192]),
    ],
)
def test_realert_rules(rule: Realert, hours: list[float], expected: list[float]) -> None:
    assert permitted(rule, hours) == expected


def test_changed_parameters_restart_only_that_detector() -> None:
    old = DetectorSuite(
        [Threshold(count=2, windows=3), Threshold(count=9, windows=3, name="big")], H
    )
    states = old.initial()
    old.close(states, Observation(0, H, 5))
    big_before = states["big"]
    new = DetectorSuite(
        [Threshold(count=2, windows=5), Threshold(count=9, windows=3, name="big")], H
    )
    new.close(states, Observation(H, H, 1))
    assert len(states["threshold"].provisional["ring"]) == 5  # rebuilt for the new timeframe
    assert states["big"] is big_before and states["big"].provisional["total"] == 6
    DetectorSuite([Threshold(count=9, windows=3, name="big")], H).close(
        states, Observation(2 * H, H, 0)
    )
    assert set(states) == {"big"}  # a detector removed from the watchlist leaves no state
