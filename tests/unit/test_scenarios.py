"""The synthetic scenarios, and the bundled default detector's behaviour on them."""

import itertools
from datetime import datetime

import pytest

from streams.backtest.scenarios import BURSTS, KEY, scenario, scenarios
from streams.backtest.scorecard import score_detectors
from streams.detect.detectors import Significance
from streams.signals.watchlist import load_watchlist

SPIKES = [k for k in BURSTS if k != "one_outlet"]


def test_scenarios_are_deterministic_and_labelled() -> None:
    a, b = scenario("step", 3), scenario("step", 3)
    assert a.items == b.items
    [(start, end)] = a.labels[KEY]
    extra = [i for i in a.items if str(i["id"]).endswith("-event")]
    assert len(extra) == sum(BURSTS["step"])
    times = [datetime.fromisoformat(str(i["published_at"])).timestamp() for i in extra]
    assert all(start <= t <= end for t in times)
    assert scenario("quiet", 1).labels == {KEY: []}


def test_late_scenario_delivers_out_of_order() -> None:
    items = scenario("late", 1).items
    times = [datetime.fromisoformat(str(i["published_at"])).timestamp() for i in items]
    assert any(later < earlier for earlier, later in itertools.pairwise(times))


def test_bundled_default_catches_every_burst_quietly_and_at_once() -> None:
    card = score_detectors(load_watchlist().detectors, scenarios([1, 2], [*SPIKES, "quiet"]))
    assert card.missed == [] and card.detected == card.events == 2 * len(SPIKES)
    assert card.false_per_30_days <= 1.0
    assert card.median_delay is not None and card.median_delay < 1


@pytest.mark.parametrize("kind", ["night"])
def test_plain_signitrend_misses_what_the_seasonal_default_catches(kind: str) -> None:
    # A burst at night is ordinary volume by day: only a baseline per hour of day sees it.
    card = score_detectors([Significance()], scenarios([1], [kind]))
    assert card.detected == 0
