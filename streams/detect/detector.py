"""Spike detection on the sequence of closed-window counts of one key.

``SignificanceDetector`` follows SigniTrend (Schubert, Weiler, Kriegel; KDD 2014): an
exponentially weighted moving average and variance of the count per window, and a score

    score = (count - max(mean, beta)) / (sqrt(var) + beta)

where ``beta`` is a noise floor so that rare terms (mean near zero) do not alert on one
or two reports. The state is three floats; each window costs O(1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["Decision", "SignificanceDetector"]


@dataclass(frozen=True, slots=True)
class Decision:
    score: float
    baseline: float
    alert: bool


@dataclass(frozen=True, slots=True)
class SignificanceDetector:
    half_life: float = 72.0
    """Windows after which an observation weighs half as much in the baseline."""
    threshold: float = 4.0
    """Score at which a window alerts."""
    beta: float = 1.0
    """Noise floor, in counts, added to the deviation and used as the least baseline."""
    min_count: int = 5
    """Fewest items in a window that may alert, whatever the score."""
    warmup: int = 24
    """Closed windows a key needs before it may alert: the baseline must exist first."""

    name = "significance"

    @property
    def alpha(self) -> float:
        return 1.0 - math.exp(math.log(0.5) / self.half_life)

    @property
    def params(self) -> dict[str, float | int]:
        return {
            "half_life": self.half_life,
            "threshold": self.threshold,
            "beta": self.beta,
            "min_count": self.min_count,
            "warmup": self.warmup,
        }

    @staticmethod
    def initial() -> dict[str, Any]:
        return {"mean": 0.0, "var": 0.0, "n": 0}

    def observe(self, state: dict[str, Any], count: int) -> Decision:
        """Score ``count`` against the baseline, then fold it into the baseline (in place)."""
        mean, var, n = state["mean"], state["var"], state["n"]
        score = (count - max(mean, self.beta)) / (math.sqrt(var) + self.beta)
        alert = n >= self.warmup and count >= self.min_count and score >= self.threshold
        # West's incremental EWMA / EWMVar: var uses the pre-update mean, like SigniTrend.
        alpha = self.alpha
        delta = count - mean
        state["mean"] = mean + alpha * delta
        state["var"] = (1.0 - alpha) * (var + alpha * delta * delta)
        state["n"] = n + 1
        return Decision(score=score, baseline=mean, alert=alert)

    def observe_empty(self, state: dict[str, Any], windows: int) -> None:
        """Fold ``windows`` empty windows into the baseline; none of them can alert.

        Closed form of ``windows`` calls of ``observe(state, 0)``: with d = (1 - alpha)^k
        the mean becomes mean * d and the variance var * d + mean^2 * d * (1 - d).
        """
        d = (1.0 - self.alpha) ** windows
        mean = state["mean"]
        state["mean"] = mean * d
        state["var"] = state["var"] * d + mean * mean * d * (1.0 - d)
        state["n"] = state["n"] + windows
