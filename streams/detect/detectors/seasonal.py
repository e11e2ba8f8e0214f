"""Counts against their usual level for the hour of the day (or of the week).

Many feeds breathe: busy by day, quiet at night, thin at weekends. A count that is
ordinary at noon can be a burst at 3 a.m. This detector keeps, per hour slot, an
exponentially weighted mean and variance of the count per window, and scores a window by
the upper-tail probability of its count under a negative binomial with that mean and
variance (Poisson when the variance is not above the mean):

    score = -log10 P(X >= count)

It alerts when the probability falls below ``p_value``. State: three arrays of 24 (or
168) numbers and a window counter.
"""

from __future__ import annotations

import functools
import math
from typing import Any, ClassVar, Literal

from pydantic import Field

from streams.detect.detectors import ewma
from streams.detect.detectors.base import Decision, DetectorBase, Observation
from streams.detect.tails import log_sf_negative_binomial, log_sf_poisson

__all__ = ["HourSlots", "Seasonal", "hour_slot", "slot_alpha", "tail_score"]

_LN10 = math.log(10.0)
_SLOT = 3600.0
_PERIOD = {"day": 86400.0, "week": 7 * 86400.0}


def tail_score(count: int, expected: float, var: float) -> float:
    """-log10 P(X >= count) for the slot's distribution (see the module docstring).

    Within two standard deviations of the expected count the tail is above 2 % for every
    Poisson, and every negative binomial of size 0.05 or more, with a mean of at least 0.5
    (``floor``'s least value): far from any ``p_value`` allowed. There the normal
    approximation stands in for the exact tail, which would cost a continued fraction
    per window.
    """
    if count <= expected:
        return 0.0
    size = expected**2 / (var - expected) if var > expected else math.inf
    spread = max(var, expected)
    if size >= 0.05 and count <= expected + 2.0 * math.sqrt(spread):
        z = (count - expected) / math.sqrt(spread)
        return -math.log10(0.5 * math.erfc(z / math.sqrt(2.0)))
    if size < math.inf:
        log_p = log_sf_negative_binomial(count, expected, size)
    else:
        log_p = log_sf_poisson(count, expected)
    return -log_p / _LN10


def hour_slot(start: float, period: str, utc_offset: float) -> int:
    """The hour of the day (0-23) or of the week (0-167, Thursday 00:00 first) of ``start``."""
    return int(((start + utc_offset * _SLOT) % _PERIOD[period]) // _SLOT)


@functools.lru_cache(maxsize=256)
def slot_alpha(half_life_periods: float, step: float) -> float:
    """EWMA weight per window of a slot, for a half-life in periods whatever the window.

    Each hour slot sees ``3600 / step`` windows per period (one for hourly windows).
    """
    return ewma.half_life_alpha(half_life_periods * max(1.0, _SLOT / step))


class HourSlots(DetectorBase):
    """Parameters of detectors that learn a level per hour of the day or of the week."""

    period: Literal["day", "week"] = Field(
        default="day", description="Rhythm to learn: hour of day (24 slots) or of week (168)."
    )
    utc_offset: float = Field(
        default=0.0, ge=-14, le=14, description="Hours added to UTC to find the local hour."
    )

    @property
    def slots(self) -> int:
        return int(_PERIOD[self.period] // _SLOT)

    def slot_of(self, start: float) -> int:
        return hour_slot(start, self.period, self.utc_offset)


class Seasonal(HourSlots):
    """Spike against the usual count for the hour of day or week (negative binomial tail)."""

    kind: Literal["seasonal"] = "seasonal"
    half_life: float = Field(
        default=14.0, gt=0, description="Periods after which a count weighs half in its slot."
    )
    p_value: float = Field(
        default=1e-4, gt=0, le=0.01, description="Tail probability below which a window alerts."
    )
    min_count: int = Field(default=5, ge=1, description="Fewest items in a window that may alert.")
    floor: float = Field(
        default=0.5,
        ge=0.5,
        description="Least expected count per window, so empty slots still judge.",
    )
    warmup: float = Field(
        default=2.0, ge=0, description="Periods the key must have been observed before it alerts."
    )
    cold_count: int | None = Field(
        default=None,
        ge=1,
        description="During warmup, a window with at least this many items still alerts "
        "(ElastAlert's alert_on_new_data): a key with no history that bursts is news.",
    )

    def initial(self) -> dict[str, Any]:
        # n: windows observed; seen: per slot, windows learned from.
        slots = self.slots
        return {"mean": [0.0] * slots, "var": [0.0] * slots, "seen": [0] * slots, "n": 0}

    rises: ClassVar[bool] = True

    def decide(self, state: dict[str, Any], obs: Observation, pending: int = 0) -> Decision:
        slot = self.slot_of(obs.start)
        mean, var = state["mean"][slot], state["var"][slot]
        count = obs.count
        expected = max(mean, self.floor)
        if count < self.min_count:
            # Cannot alert: most windows, and the tail is the costly part. Scores are
            # only ever shown for alerts.
            return Decision(0.0, expected, False, 0.0)
        score = tail_score(count, expected, var)
        bound = -math.log10(self.p_value)
        warm = (state["n"] + pending) * obs.step >= self.warmup * _PERIOD[self.period]
        if not warm and self.cold_count is not None:
            warm = count >= self.cold_count
        alert = warm and count >= self.min_count and score >= bound
        return Decision(score, expected, alert, score / bound)

    def observe(self, state: dict[str, Any], obs: Observation) -> Decision:
        decision = self.decide(state, obs)
        self._fold(state, self.slot_of(obs.start), obs.step, obs.count)
        return decision

    def learn(self, state: dict[str, Any], obs: Observation) -> None:
        self._fold(state, self.slot_of(obs.start), obs.step, obs.count)

    @property
    def least_count(self) -> int:
        return self.min_count

    def judges_on_learned(self, step: float, unlearned: float) -> bool:
        # Windows on whole hours fall in a window's slot only whole periods apart: a window
        # is judged on its own slot, and those earlier ones are learned. ``n`` (warmup)
        # counts the unlearned windows through ``pending``.
        return step % _SLOT == 0 and unlearned <= _PERIOD[self.period]

    def observe_empty(
        self, state: dict[str, Any], start: float, step: float, windows: int
    ) -> list[tuple[Observation, Decision]]:
        # An empty window is below min_count (at least 1): it never alerts, only teaches.
        for i in range(windows):
            self._fold(state, self.slot_of(start + i * step), step, 0)
        return []

    def _fold(self, state: dict[str, Any], slot: int, step: float, count: int) -> None:
        # ewma.weight and ewma.update, written out: this runs for every window learned.
        means, variances, seen = state["mean"], state["var"], state["seen"]
        n = seen[slot]
        alpha = max(slot_alpha(self.half_life, step), 1.0 / (n + 1))
        mean = means[slot]
        delta = count - mean
        means[slot] = mean + alpha * delta
        variances[slot] = (1.0 - alpha) * (variances[slot] + alpha * delta * delta)
        seen[slot] = n + 1
        state["n"] += 1
