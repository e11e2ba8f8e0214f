"""A short moving average against its hour-of-day level, judged against the key's own record.

Three parts, each of which earned its place on the NAB benchmark (docs/detection.md):

1. **Hour-of-day baseline.** Per hour slot, an exponentially weighted mean of the count
   per window and variance of its residual. The mean learns robustly: a residual above
   ``clip`` standard deviations is clipped before it is learnt, so a burst barely lifts
   the level it is judged against. A slot's first window sets its mean.
2. **Smoothed z-score.** The mean of the last ``smooth`` windows against the slot's level,
   with a variance floor of ``poisson * mean + beta^2`` (counts are at least Poisson
   noisy): ``z = (avg - mean) / sqrt(var_floor / smooth)``.
3. **Relative to the key's record.** ``q`` tracks the key's ``quantile`` (99.9 %) of z
   with a multiplicative stochastic update, a slowly fading high-water mark of its
   surprises. The score is ``z / q``, and a window alerts at ``threshold`` (0.95): a
   surprise close to the biggest the key has had lately. One threshold thereby serves a
   noisy key with huge spikes and a key whose counts hover near zero.

Mind the trade-off of part 3: after a very large event, smaller ones score lower for
weeks while ``q`` fades (by a factor e in about 1 / (quantile_step * (1 - quantile))
windows). Pair it with ``seasonal`` or ``threshold`` where every burst above a fixed bar
must alert. State: two arrays of 24 (or 168) numbers, ``smooth`` counts, three numbers.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field

from streams.detect.detectors.base import Decision, Observation
from streams.detect.detectors.seasonal import HourSlots, slot_alpha

__all__ = ["SeasonalQuantile"]


class SeasonalQuantile(HourSlots):
    """Smoothed hour-of-day z-score relative to the key's tracked high quantile of it."""

    kind: Literal["seasonal_quantile"] = "seasonal_quantile"
    half_life: float = Field(
        default=6.0, gt=0, description="Periods after which a count weighs half in its slot."
    )
    variance_half_life: float = Field(
        default=2.5, gt=0, description="The same for the slot's residual variance."
    )
    smooth: int = Field(
        default=6, ge=1, le=288, description="Windows averaged into the scored count."
    )
    poisson: float = Field(
        default=1.0, ge=0, description="Weight of the mean in the variance floor."
    )
    beta: float = Field(
        default=2.0, gt=0, description="Noise floor in counts (its square floors the variance)."
    )
    clip: float = Field(
        default=1.0,
        gt=0,
        description="Standard deviations above which a residual is clipped before the mean "
        "learns it.",
    )
    variance_clip: float = Field(default=20.0, gt=0, description="The same for the variance.")
    quantile: float = Field(
        default=0.999, gt=0.5, lt=1, description="Quantile of z tracked as the key's record."
    )
    quantile_step: float = Field(
        default=0.1, gt=0, le=1, description="Step of the multiplicative quantile tracker."
    )
    quantile_floor: float = Field(
        default=1.0, gt=0, description="Least value of the tracked quantile."
    )
    threshold: float = Field(
        default=0.95, gt=0, description="Score (z relative to the tracked quantile) that alerts."
    )
    min_count: int = Field(
        default=1, ge=1, description="Fewest items in the newest window for it to alert."
    )

    def initial(self) -> dict[str, Any]:
        slots = self.slots
        return {
            "mean": [None] * slots,
            "var": [0.0] * slots,
            "ring": [0] * self.smooth,
            "sum": 0,
            "q": max(1.0, self.quantile_floor),
            "n": 0,
        }

    def observe(self, state: dict[str, Any], obs: Observation) -> Decision:
        count, smooth = obs.count, self.smooth
        ring, pos = state["ring"], state["n"] % smooth
        total = state["sum"] + count - ring[pos]
        ring[pos] = count
        state["sum"] = total
        state["n"] += 1
        slot = self.slot_of(obs.start)
        means, variances = state["mean"], state["var"]
        mean = means[slot]
        if mean is None:
            means[slot] = float(count)
            return Decision(0.0, float(count), False, 0.0)
        var = variances[slot]
        floor = var + self.poisson * mean + self.beta * self.beta
        sd = math.sqrt(floor)
        z = (total / smooth - mean) / math.sqrt(floor / smooth)
        residual = count - mean
        a = slot_alpha(self.half_life, obs.step)
        means[slot] = mean + a * min(residual, self.clip * sd)
        a = slot_alpha(self.variance_half_life, obs.step)
        dv = min(residual, self.variance_clip * sd)
        variances[slot] = (1.0 - a) * (var + a * dv * dv)
        q = state["q"]
        score = z / q
        # Stochastic quantile tracking: up by e^(step*quantile) when exceeded, else down by
        # e^(-step*(1-quantile)); in balance q is exceeded a (1 - quantile) share of the time.
        if z > q:
            q *= math.exp(self.quantile_step * self.quantile)
        else:
            q *= math.exp(-self.quantile_step * (1.0 - self.quantile))
        state["q"] = max(q, self.quantile_floor)
        alert = score >= self.threshold and count >= self.min_count
        return Decision(score, mean, alert, score / self.threshold)

    def observe_empty(
        self, state: dict[str, Any], start: float, step: float, windows: int
    ) -> list[tuple[Observation, Decision]]:
        # An empty window is below min_count: observe each for the state, none alerts.
        for i in range(windows):
            self.observe(state, Observation(start + i * step, step, 0))
        return []
