"""How well alerts matched labelled events, per key: the figures ``watchfloor backtest`` prints.

Labels are NAB's format: a JSON object from key (for count files, the file's name or
its path under the data folder) to a list of ``[start, end]`` timestamps, each an event
that should have raised an alert. A row (window) belongs to a labelled event when its
start lies within ``[start, end]``.

- precision: alerting rows inside an event / alerting rows
- recall: events with at least one alert / events
- delay: per detected event, windows from the event's first window to the first alert
  (0: the event's first window alerted); reported as the median
- false alerts per day: alerting rows outside every event / days covered by the rows
- NAB: the standard NAB score of the rows (``streams.backtest.nab``)
"""

from __future__ import annotations

import bisect
import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from streams.backtest.nab import NabScore, score_series

__all__ = ["KeyReport", "Labels", "evaluate", "event_rows", "load_labels"]

Labels = Mapping[str, list[tuple[float, float]]]


def load_labels(path: Path) -> dict[str, list[tuple[float, float]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("expected an object from key to [[start, end], ...]")
        return {
            key: sorted((_epoch(a), _epoch(b)) for a, b in spans) for key, spans in data.items()
        }
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"{path}: cannot read labels: {exc}") from None


def labels_for(labels: Labels, key: str) -> list[tuple[float, float]] | None:
    """A key's events: by exact key, or by a path one ends with (``realTweets/x.csv``)."""
    if key in labels:
        return labels[key]
    for name, spans in labels.items():
        if key.endswith("/" + name) or name.endswith("/" + key):
            return spans
    return None


@dataclass(frozen=True)
class KeyReport:
    key: str
    rows: int
    days: float
    alerts: int
    events: int | None
    """Labelled events, or None when the key has no labels."""
    detected: int = 0
    true_alerts: int = 0
    delays: tuple[int, ...] = ()
    nab: NabScore | None = None
    detector: str = "all"
    """Whose alerts the row counts: every detector's, or one detector's by its name."""

    @property
    def false_alerts(self) -> int:
        return self.alerts - self.true_alerts

    @property
    def precision(self) -> float | None:
        return self.true_alerts / self.alerts if self.alerts and self.events is not None else None

    @property
    def recall(self) -> float | None:
        return self.detected / self.events if self.events else None

    @property
    def false_per_day(self) -> float | None:
        if self.events is None:
            return None
        return self.false_alerts / self.days if self.days else 0.0

    @property
    def median_delay(self) -> float | None:
        return statistics.median(self.delays) if self.delays else None


def evaluate(
    key: str,
    starts: Sequence[float],
    step: float,
    alerted: Sequence[bool],
    events: Sequence[tuple[float, float]] | None,
    detector: str = "all",
) -> KeyReport:
    """Score one key's alerting rows against its labelled events (if any)."""
    days = (starts[-1] + step - starts[0]) / 86400 if starts else 0.0
    alerts = sum(alerted)
    if events is None:
        return KeyReport(key, len(starts), days, alerts, None, detector=detector)
    spans = event_rows(starts, events)
    inside = [False] * len(starts)
    delays = []
    for first, last in spans:
        for i in range(first, last + 1):
            inside[i] = True
        hit = next((i for i in range(first, last + 1) if alerted[i]), None)
        if hit is not None:
            delays.append(round((starts[hit] - starts[first]) / step))
    true_alerts = sum(1 for a, ins in zip(alerted, inside, strict=True) if a and ins)
    return KeyReport(
        key=key,
        rows=len(starts),
        days=days,
        alerts=alerts,
        events=len(spans),
        detected=len(delays),
        true_alerts=true_alerts,
        delays=tuple(delays),
        nab=_nab(key, alerted, spans),
        detector=detector,
    )


def _nab(key: str, alerted: Sequence[bool], spans: list[tuple[int, int]]) -> NabScore:
    try:
        return score_series(alerted, spans)
    except ValueError as exc:
        raise ValueError(f"labels of {key!r}: {exc}") from None


def event_rows(
    starts: Sequence[float], events: Sequence[tuple[float, float]]
) -> list[tuple[int, int]]:
    """Each event as the (first, last) rows whose window starts fall in it.

    Events that cover none of the key's windows cannot be judged; like NAB, skip them.
    """
    spans = []
    for a, b in events:
        first = bisect.bisect_left(starts, a)
        last = bisect.bisect_right(starts, b) - 1
        if first <= last:
            spans.append((first, last))
    return spans


def _epoch(text: str) -> float:
    ts = datetime.fromisoformat(str(text))
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp()
