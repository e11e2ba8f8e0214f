"""Page's CUSUM on standardised counts: slow, sustained rises that no single window shows.

    z = (count - mean) / (sqrt(var) + beta),   S = max(0, S + z - k)

and an alert when ``S >= h``, after which S restarts at zero. The baseline (EWMA mean and
variance) learns only while the key is in control (S = 0), so a long rise cannot teach
the baseline that it is normal before it has alerted. State: four numbers.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import Field

from streams.detect.detectors import ewma
from streams.detect.detectors.base import Decision, DetectorBase, Observation

__all__ = ["Cusum"]


class Cusum(DetectorBase):
    """Cumulative sum of standardised excess over the baseline."""

    kind: Literal["cusum"] = "cusum"
    rises: ClassVar[bool] = True
    half_life: float = Field(
        default=168.0, gt=0, description="Windows after which a count weighs half in the baseline."
    )
    k: float = Field(
        default=0.5,
        ge=0,
        description="Allowance: standard deviations of drift tolerated per window.",
    )
    h: float = Field(default=5.0, gt=0, description="Cumulative sum at which the key alerts.")
    beta: float = Field(
        default=1.0, gt=0, description="Noise floor in counts added to the deviation."
    )
    min_count: int = Field(default=1, ge=0, description="Fewest items in the alerting window.")
    warmup: int = Field(
        default=24, ge=0, description="Windows the key must have been observed before it alerts."
    )

    def initial(self) -> dict[str, Any]:
        # n: windows observed; m: windows learned from (those in control).
        return {"mean": 0.0, "var": 0.0, "s": 0.0, "n": 0, "m": 0}

    def observe(self, state: dict[str, Any], obs: Observation) -> Decision:
        mean, var, n = state["mean"], state["var"], state["n"]
        count = obs.count
        z = (count - mean) / (math.sqrt(var) + self.beta)
        s = max(0.0, state["s"] + z - self.k)
        alert = n >= self.warmup and s >= self.h and count >= self.min_count
        score = s
        if alert or n < self.warmup:
            s = 0.0
        state["s"] = s
        if s == 0.0:
            alpha = ewma.weight(ewma.half_life_alpha(self.half_life), state["m"])
            state["mean"], state["var"] = ewma.update(mean, var, count, alpha)
            state["m"] += 1
        state["n"] = n + 1
        return Decision(score, mean, alert, score / self.h)
