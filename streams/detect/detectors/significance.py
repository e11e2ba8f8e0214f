"""SigniTrend's significance score (Schubert, Weiler, Kriegel; KDD 2014).

An exponentially weighted moving average and variance of the count per window, and

    score = (count - max(mean, beta)) / (sqrt(var) + beta)

where ``beta`` is a noise floor so that rare keys (mean near zero) do not alert on one or
two reports. State: three numbers.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import Field

from streams.detect.detectors import ewma
from streams.detect.detectors.base import Decision, DetectorBase, Observation

__all__ = ["Significance"]


class Significance(DetectorBase):
    """Spike against an exponentially weighted baseline of the key's own counts."""

    kind: Literal["significance"] = "significance"
    rises: ClassVar[bool] = True
    half_life: float = Field(
        default=72.0, gt=0, description="Windows after which a count weighs half in the baseline."
    )
    threshold: float = Field(default=4.0, gt=0, description="Score at which a window alerts.")
    beta: float = Field(
        default=1.0, gt=0, description="Noise floor in counts: least baseline and deviation."
    )
    min_count: int = Field(default=5, ge=1, description="Fewest items in a window that may alert.")
    warmup: int = Field(
        default=24, ge=0, description="Windows the key must have been observed before it alerts."
    )

    def initial(self) -> dict[str, Any]:
        return {"mean": 0.0, "var": 0.0, "n": 0}

    def observe(self, state: dict[str, Any], obs: Observation) -> Decision:
        mean, var, n = state["mean"], state["var"], state["n"]
        count = obs.count
        score = (count - max(mean, self.beta)) / (math.sqrt(var) + self.beta)
        alert = n >= self.warmup and count >= self.min_count and score >= self.threshold
        alpha = ewma.weight(ewma.half_life_alpha(self.half_life), n)
        state["mean"], state["var"] = ewma.update(mean, var, count, alpha)
        state["n"] = n + 1
        return Decision(score, mean, alert, score / self.threshold)

    def observe_empty(
        self, state: dict[str, Any], start: float, step: float, windows: int
    ) -> list[tuple[Observation, Decision]]:
        # A count of zero never reaches min_count, so none of these windows alerts.
        alpha = ewma.half_life_alpha(self.half_life)
        while windows > 0 and ewma.weight(alpha, state["n"]) > alpha:
            self.observe(state, Observation(start, step, 0))
            start, windows = start + step, windows - 1
        # Closed form of ``windows`` empty observations: with d = (1 - alpha)^k the mean
        # becomes mean * d and the variance var * d + mean^2 * d * (1 - d).
        d = (1.0 - alpha) ** windows
        mean = state["mean"]
        state["mean"] = mean * d
        state["var"] = state["var"] * d + mean * mean * d * (1.0 - d)
        state["n"] = state["n"] + windows
        return []
