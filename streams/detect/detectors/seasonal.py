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

import math
from typing import Any, Literal

from pydantic import Field

from streams.detect.detectors import ewma
from streams.detect.detectors.base import Decision, DetectorBase, Observation
from streams.detect.tails import log_sf_negative_binomial, log_sf_poisson

__all__ = ["Seasonal"]

_LN10 = math.log(10.0)
_SLOT = 3600.0
_PERIOD = {"day": 86400.0, "week": 7 * 86400.0}


class Seasonal(DetectorBase):
    """Spike against the usual count for the hour of day or week (negative binomial tail)."""

    kind: Literal["seasonal"] = "seasonal"
    period: Literal["day", "week"] = Field(
        default="day", description="Rhythm to learn: hour of day (24 slots) or of week (168)."
    )
    utc_offset: float = Field(
        default=0.0, ge=-14, le=14, description="Hours added to UTC to find the local hour."
    )
    half_life: float = Field(
        default=14.0, gt=0, description="Periods after which a count weighs half in its slot."
    )
    p_value: float = Field(
        default=1e-4, gt=0, lt=1, description="Tail probability below which a window alerts."
    )
    min_count: int = Field(default=5, ge=1, description="Fewest items in a window that may alert.")
    floor: float = Field(
        default=0.5,
        gt=0,
        description="Least expected count per window, so empty slots still judge.",
    )
    warmup: float = Field(
        default=2.0, ge=0, description="Periods the key must have been observed before it alerts."
    )

    @property
    def slots(self) -> int:
        return int(_PERIOD[self.period] // _SLOT)

    def initial(self) -> dict[str, Any]:
        # n: windows observed; seen: per slot, windows learned from.
        slots = self.slots
        return {"mean": [0.0] * slots, "var": [0.0] * slots, "seen": [0] * slots, "n": 0}

    def observe(self, state: dict[str, Any], obs: Observation) -> Decision:
        slot = int(((obs.start + self.utc_offset * _SLOT) % _PERIOD[self.period]) // _SLOT)
        means, variances = state["mean"], state["var"]
        mean, var = means[slot], variances[slot]
        count = obs.count
        expected = max(mean, self.floor)
        score = 0.0
        if count > expected:
            if var > expected:
                log_p = log_sf_negative_binomial(count, expected, expected**2 / (var - expected))
            else:
                log_p = log_sf_poisson(count, expected)
            score = -log_p / _LN10
        bound = -math.log10(self.p_value)
        warm = state["n"] * obs.step >= self.warmup * _PERIOD[self.period]
        alert = warm and count >= self.min_count and score >= bound
        # Each slot sees period / step windows per period; weigh them so that the
        # half-life is in periods whatever the window length.
        per_period = max(1.0, _SLOT / obs.step)
        seen = state["seen"]
        alpha = ewma.weight(ewma.half_life_alpha(self.half_life * per_period), seen[slot])
        means[slot], variances[slot] = ewma.update(mean, var, count, alpha)
        seen[slot] += 1
        state["n"] += 1
        return Decision(score, expected, alert, score / bound)
