"""Detectors against the synthetic scenarios: events caught, delay, false alerts.

The figures the issue of record asks of a detector on the service's own data: every
event alerted, at most one false alert per signal per 30 quiet days, and a median delay
under one window (0 means the event's first window alerted).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import orjson

from streams.backtest.command import reports_from_run
from streams.backtest.scenarios import Scenario
from streams.detect.detectors import DetectorBase
from streams.offline import run_offline
from streams.settings import Settings
from streams.signals.watchlist import Watchlist, load_watchlist

__all__ = ["Scorecard", "score_detectors"]


@dataclass
class Scorecard:
    events: int = 0
    detected: int = 0
    delays: list[int] = field(default_factory=list)
    false_alerts: int = 0
    quiet_days: float = 0.0
    missed: list[str] = field(default_factory=list)
    """Scenarios (``kind/seed``) whose event went unalerted."""

    @property
    def false_per_30_days(self) -> float:
        return 30 * self.false_alerts / self.quiet_days if self.quiet_days else 0.0

    @property
    def median_delay(self) -> float | None:
        return statistics.median(self.delays) if self.delays else None


def score_detectors(
    detectors: Sequence[DetectorBase],
    cases: Iterable[Scenario],
    settings: Settings | None = None,
) -> Scorecard:
    """Run every scenario with ``detectors`` on every signal, and add up the outcome."""
    settings = settings or Settings()
    watchlist = _with_detectors(load_watchlist(settings.watchlist), detectors)
    card = Scorecard()
    for case in cases:
        run = run_offline(
            (orjson.dumps(i) for i in case.items), settings, flush=True, watchlist=watchlist
        )
        for report in reports_from_run(run, case.labels):
            if report.events is None:
                continue
            card.events += report.events
            card.detected += report.detected
            card.delays += report.delays
            card.false_alerts += report.false_alerts
            if report.detected < report.events:
                card.missed.append(f"{case.name}/{case.seed}")
            labelled = sum(b - a for a, b in case.labels[report.key]) / 86400
            card.quiet_days += report.days - labelled
    return card


def _with_detectors(watchlist: Watchlist, detectors: Sequence[DetectorBase]) -> Watchlist:
    signals = [s.model_copy(update={"detectors": None}) for s in watchlist.signals]
    return watchlist.model_copy(update={"signals": signals, "detectors": list(detectors)})
