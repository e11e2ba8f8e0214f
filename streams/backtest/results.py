"""What a backtest found, per key and per detector, and how it is written out.

A ``Backtest`` holds the figures (one ``KeyReport`` per key for all its detectors, then one
per detector where a key has several), every alert with its time, detector and scale, and
per key the series a picture shows: counts per window, the baseline the detectors
expected, the alerts and the labelled events.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from streams.backtest.evaluate import KeyReport

__all__ = ["ALL_DETECTORS", "AlertRow", "Backtest", "KeyTrace", "write_out"]

ALL_DETECTORS = "all"
"""The detector column of a key's row that counts every detector's alerts."""


@dataclass(frozen=True)
class AlertRow:
    """One alert of the backtest, as an analyst lists them."""

    key: str
    window_start: float
    window_end: float
    """The alert's time: when the window that crossed ended (Unix seconds)."""
    detector: str
    scale: str
    update: str
    """opened for a burst's first alert (count series: every alert), or the update kind."""
    count: int
    baseline: float
    severity: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["window_start"] = _iso(self.window_start)
        out["window_end"] = _iso(self.window_end)
        return out


@dataclass
class KeyTrace:
    """One key's windows at its shortest scale, for its picture."""

    key: str
    step: float
    starts: list[float]
    counts: list[int]
    baselines: list[float | None]
    alerts: list[AlertRow] = field(default_factory=list)
    events: list[tuple[float, float]] | None = None


@dataclass
class Backtest:
    reports: list[KeyReport]
    alerts: list[AlertRow]
    traces: list[KeyTrace]


def write_out(backtest: Backtest, path: Path) -> None:
    """``.json``: the figures and every alert; ``.csv``: the figures, one row per key and
    detector (the alerts are in the JSON, or listed by the command)."""
    rows = [_report_row(r) for r in backtest.reports]
    if path.suffix.lower() == ".json":
        data = {"keys": rows, "alerts": [a.to_json() for a in backtest.alerts]}
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    elif path.suffix.lower() == ".csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(_report_row(None)))
            writer.writeheader()
            writer.writerows(rows)
    else:
        raise ValueError(f"{path}: --out writes .json or .csv")


def _report_row(r: KeyReport | None) -> dict[str, Any]:
    if r is None:  # the header
        r = KeyReport("", 0, 0.0, 0, None)
    return {
        "key": r.key,
        "detector": r.detector,
        "days": round(r.days, 3),
        "windows": r.rows,
        "alerts": r.alerts,
        "events": r.events,
        "detected": r.detected if r.events is not None else None,
        "precision": r.precision,
        "recall": r.recall,
        "median_delay_windows": r.median_delay,
        "false_alerts_per_day": r.false_per_day,
        "nab": r.nab.normalised if r.nab else None,
    }


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()
