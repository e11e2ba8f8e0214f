"""What the analyst board shows: recent alerts, and per key its counts over time with the
expected count and the alerts. Plain Python, fed records by the worker's board agent.

Counts are hits per key and bucket of its shortest scale, each item id once per key (a
redelivered hit counts once, as in detection; near-duplicates from other outlets are not
folded here). The expected count replays those counts through the key's detectors, as
``watchfloor backtest --plot`` does, so the chart reads the same as a backtest picture.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, get_args

from streams.backtest.series import CountSeries, run_series
from streams.detect.detectors import DetectorBase
from streams.detect.severity import Severity
from streams.models import Alert, SignalHit

__all__ = ["BoardView"]

SEVERITIES: tuple[str, ...] = get_args(Severity)
"""Least to most severe."""


class BoardView:
    def __init__(
        self,
        step: float,
        detectors_of: Callable[[str], Sequence[DetectorBase]],
        *,
        most_alerts: int = 2000,
        keep_buckets: int = 24 * 14,
        most_keys: int = 5000,
    ) -> None:
        self.step = step
        self.detectors_of = detectors_of
        self.most_alerts = most_alerts
        self.keep_buckets = keep_buckets
        """Buckets kept per key, counted back from its newest."""
        self.most_keys = most_keys
        self._alerts: OrderedDict[str, Alert] = OrderedDict()
        self._counts: dict[str, dict[float, set[str]]] = {}
        self.version = 0
        """Rises with every change, so a page polling can tell whether to redraw."""

    def add_alert(self, alert: Alert) -> None:
        if alert.alert_id in self._alerts:
            return  # delivered again: at least once
        self._alerts[alert.alert_id] = alert
        while len(self._alerts) > self.most_alerts:
            self._alerts.popitem(last=False)
        self.version += 1

    def add_hit(self, hit: SignalHit) -> None:
        buckets = self._counts.get(hit.key)
        if buckets is None:
            if len(self._counts) >= self.most_keys:
                return  # the board shows the keys it met first; detection has them all
            buckets = self._counts[hit.key] = {}
        start = math.floor(hit.published_at.timestamp() / self.step) * self.step
        ids = buckets.setdefault(start, set())
        if hit.item_id in ids:
            return
        ids.add(hit.item_id)
        if len(buckets) > self.keep_buckets:
            newest = max(buckets)
            for old in [b for b in buckets if b <= newest - self.keep_buckets * self.step]:
                del buckets[old]
        self.version += 1

    def alerts(
        self,
        *,
        signal: str | None = None,
        region: str | None = None,
        severity: str | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """The newest alerts first (by when their window ended), filtered."""
        found = [
            a
            for a in self._alerts.values()
            if (signal is None or a.signal_id == signal)
            and (region is None or a.region == region)
            and (severity is None or a.severity == severity)
        ]
        found.sort(key=lambda a: (a.window_end, a.generated_at), reverse=True)
        return [a.model_dump(mode="json") for a in found[:limit]]

    def facets(self) -> dict[str, list[str]]:
        """The signals, regions and severities the alerts have, for the page's filters."""
        alerts = self._alerts.values()
        return {
            "signals": sorted({a.signal_id for a in alerts}),
            "regions": sorted({a.region for a in alerts}),
            "severities": [s for s in SEVERITIES if any(a.severity == s for a in alerts)],
        }

    def keys(self) -> list[str]:
        return sorted(set(self._counts) | {a.key for a in self._alerts.values()})

    def series(self, key: str) -> dict[str, Any] | None:
        """The key's buckets from its first to its newest with counts, the expected count
        and its alerts; None for a key the board has not seen."""
        buckets = self._counts.get(key, {})
        alerts = [a for a in self._alerts.values() if a.key == key]
        if not buckets and not alerts:
            return None
        starts: list[float] = []
        counts: list[int] = []
        baselines: list[float | None] = []
        if buckets:
            first, last = min(buckets), max(buckets)
            starts = [first + i * self.step for i in range(round((last - first) / self.step) + 1)]
            counts = [len(buckets.get(s, ())) for s in starts]
            series = CountSeries(key, self.step, starts, counts)
            baselines = run_series(series, self.detectors_of(key)).baselines
        return {
            "key": key,
            "step": self.step,
            "starts": starts,
            "counts": counts,
            "baselines": baselines,
            "alerts": [
                {
                    "alert_id": a.alert_id,
                    "window_start": a.window_start.timestamp(),
                    "window_end": a.window_end.timestamp(),
                    "scale": a.scale,
                    "update": a.update,
                    "severity": a.severity,
                    "count": a.count,
                    "detector": a.detector.name,
                }
                for a in sorted(alerts, key=lambda a: a.window_end)
            ],
        }
