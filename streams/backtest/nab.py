"""The Numenta Anomaly Benchmark's scoring rule (Lavin & Ahmad 2015), for alert decisions.

Per series, rows are windows and some rows alerted. Labelled anomaly windows span rows.

- The first ``min(floor(0.15 n), 750)`` rows are probation: ignored entirely.
- Each labelled window scores once: the earliest alert inside it earns
  ``tp * s(y) / s(-1)`` with ``y = -(end - i + 1) / width`` and
  ``s(y) = 2 / (1 + e^(5y)) - 1`` (1.0 at the window's first row, near 0 at its last);
  a window without an alert costs ``-fn``. Windows entirely inside probation do not count.
- Every alert outside the windows costs: ``-fp`` before the first window, or after a
  window ``fp * s(y)`` with ``y = (i - end_prev) / (width_prev - 1)``, so alerts right
  after a window cost almost nothing and those more than three widths later cost ``-fp``.
- Scores add up over series; the normalised score is ``100 (raw - null) / (perfect - null)``
  where ``null`` (never alert) is ``-fn`` per scored window and ``perfect`` is ``tp`` per
  labelled window.

With NAB's standard profile (tp 1, fn 1, fp 0.11) this agrees with NAB's published scorer.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["STANDARD", "Costs", "NabScore", "normalised", "probation_rows", "score_series"]

PROBATION_SHARE = 0.15
PROBATION_CAP = 750


@dataclass(frozen=True, slots=True)
class Costs:
    tp: float
    fp: float
    fn: float


STANDARD = Costs(tp=1.0, fp=0.11, fn=1.0)


@dataclass(frozen=True, slots=True)
class NabScore:
    raw: float
    null: float
    perfect: float
    windows: int
    """Labelled windows outside probation."""
    detected: int
    false_alerts: int
    """Alerting rows outside every window (after probation)."""

    def __add__(self, other: NabScore) -> NabScore:
        return NabScore(
            self.raw + other.raw,
            self.null + other.null,
            self.perfect + other.perfect,
            self.windows + other.windows,
            self.detected + other.detected,
            self.false_alerts + other.false_alerts,
        )

    @classmethod
    def total(cls, scores: Iterable[NabScore]) -> NabScore:
        """Scores of several series added up, as NAB adds its files."""
        return sum(scores, cls(0.0, 0.0, 0.0, 0, 0, 0))

    @property
    def normalised(self) -> float | None:
        """None when there is nothing to score (no labelled window): NAB's ratio is 0/0."""
        return normalised(self.raw, self.null, self.perfect)


def normalised(raw: float, null: float, perfect: float) -> float | None:
    if perfect == null:
        return None
    return 100.0 * (raw - null) / (perfect - null)


def probation_rows(n: int) -> float:
    return min(math.floor(PROBATION_SHARE * n), PROBATION_SHARE * 5000)


def _s(y: float) -> float:
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def score_series(
    alerts: Sequence[bool], windows: Sequence[tuple[int, int]], costs: Costs = STANDARD
) -> NabScore:
    """Score one series: ``alerts[i]`` per row, ``windows`` as inclusive row ranges."""
    n = len(alerts)
    spans = sorted(windows)
    for (_, end), (start, _) in itertools.pairwise(spans):
        if start <= end:
            raise ValueError("labelled windows overlap")
    probation = probation_rows(n)
    terms: list[float] = []
    scored = detected = false_alerts = 0
    for start, end in spans:
        if end < probation:
            continue
        scored += 1
        first = next(
            (i for i in range(max(start, math.ceil(probation)), end + 1) if alerts[i]), None
        )
        if first is None:
            terms.append(-costs.fn)
        else:
            detected += 1
            width = end - start + 1
            terms.append(costs.tp * _s(-(end - first + 1) / width) / _s(-1.0))
    inside = [False] * n
    for start, end in spans:
        for i in range(start, end + 1):
            inside[i] = True
    previous: tuple[int, int] | None = None
    k = 0
    for i in range(n):
        while k < len(spans) and spans[k][1] < i:
            previous = spans[k]
            k += 1
        if i < probation or inside[i] or not alerts[i]:
            continue
        false_alerts += 1
        if previous is None:
            terms.append(-costs.fp)
            continue
        span = previous[1] - previous[0]
        y = (i - previous[1]) / span if span else math.inf
        terms.append(-costs.fp if y > 3.0 else costs.fp * _s(y))
    return NabScore(
        raw=math.fsum(terms),
        null=-costs.fn * scored,
        perfect=costs.tp * len(spans),
        windows=scored,
        detected=detected,
        false_alerts=false_alerts,
    )
