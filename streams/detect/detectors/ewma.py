"""Exponentially weighted mean and variance, the baseline several detectors learn.

West's incremental update (the variance uses the pre-update mean, as in SigniTrend).
While fewer observations than the half-life suggests have been seen, the weight of the
newest one is ``1 / (n + 1)``, so the baseline starts as the plain average of what it has
seen instead of being dragged towards zero by an empty start.
"""

from __future__ import annotations

import functools
import math

__all__ = ["half_life_alpha", "update", "weight"]


@functools.lru_cache(maxsize=256)
def half_life_alpha(half_life: float) -> float:
    """Weight of the newest observation such that one ``half_life`` ago weighs half."""
    return 1.0 - math.exp(math.log(0.5) / half_life)


def weight(alpha: float, n: int) -> float:
    """Weight of the observation that follows ``n`` earlier ones."""
    return max(alpha, 1.0 / (n + 1))


def update(mean: float, var: float, x: float, alpha: float) -> tuple[float, float]:
    delta = x - mean
    return mean + alpha * delta, (1.0 - alpha) * (var + alpha * delta * delta)
