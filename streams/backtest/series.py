"""Count series (one count per window) read from CSV and run through a signal's detectors.

A CSV has a ``timestamp`` column (ISO 8601; naive times are UTC), a ``value`` or
``count`` column, and optionally a ``key`` column to hold several series in one file.
Each row is one window starting at its timestamp; rows of a key must go forward in time.
Missing rows between two timestamps are empty windows, as they are for the worker.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from streams.detect.detectors import Decision, DetectorBase, Observation
from streams.detect.suite import DetectorSuite, Fired

__all__ = ["CountSeries", "SeriesError", "SeriesRun", "read_count_csv", "run_series"]


_EPOCH = datetime(1970, 1, 1)  # naive times are UTC


class SeriesError(ValueError):
    """A count file that cannot be read; the message names the file and the row."""


@dataclass
class CountSeries:
    key: str
    step: float
    starts: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    timestamps: list[str] = field(default_factory=list)
    """The rows' timestamps as written, to echo them back in outputs."""


@dataclass
class SeriesRun:
    series: CountSeries
    alerted: list[bool]
    """Per row: whether an alert went out for that window."""
    alerts: list[Fired]
    """Alerts that went out, including any on empty windows between rows."""
    suppressed: int
    baselines: list[float | None] = field(default_factory=list)
    """Per row: the expected count of the first detector that has one, as it judged the
    row's window (None while it has none, e.g. a fixed threshold)."""

    def grid(self) -> tuple[list[float], list[bool]]:
        """Every window from the first row to the last, and whether each alerted.

        Equal to the rows and ``alerted`` when no row is missing; otherwise it also shows
        alerts on the missing (empty) windows, such as a flatline's.
        """
        starts, step = self.series.starts, self.series.step
        if not starts:
            return [], []
        grid = [starts[0] + i * step for i in range(round((starts[-1] - starts[0]) / step) + 1)]
        at = {round((f.obs.start - starts[0]) / step) for f in self.alerts}
        return grid, [i in at for i in range(len(grid))]


def read_count_csv(
    path: Path, key: str | None = None, step: float | None = None
) -> list[CountSeries]:
    """Every series in one CSV; ``key`` names the series of a file without a key column."""
    by_key: dict[str, CountSeries] = {}
    with path.open(newline="", encoding="utf-8-sig") as fh:  # -sig: spreadsheets write a BOM
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader, [])]
        col_t = _column(path, header, ("timestamp",))
        col_v = _column(path, header, ("value", "count"))
        col_k = header.index("key") if "key" in header else None
        default_key = key or path.name
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                text = row[col_t].strip()
                ts = datetime.fromisoformat(text)
                value = float(row[col_v])
                name = row[col_k] if col_k is not None else default_key
            except (ValueError, IndexError) as exc:
                raise SeriesError(f"{path}:{line}: {exc}") from None
            if not math.isfinite(value) or value < 0 or value != int(value):
                raise SeriesError(f"{path}:{line}: count {row[col_v]!r} is not a whole number >= 0")
            start = (ts - _EPOCH).total_seconds() if ts.tzinfo is None else ts.timestamp()
            series = by_key.get(name) or by_key.setdefault(name, CountSeries(name, 0.0))
            if series.starts and start <= series.starts[-1]:
                raise SeriesError(
                    f"{path}:{line}: {text} does not follow the previous row of {name!r}"
                )
            series.starts.append(start)
            series.counts.append(int(value))
            series.timestamps.append(text)
    steps = {name: _usual_step(series) for name, series in by_key.items()}
    known = [v for v in steps.values() if v is not None]
    for name, series in by_key.items():
        # A key with one row takes the window length of the file's other keys.
        found = step or steps[name] or (Counter(known).most_common(1)[0][0] if known else None)
        if found is None:
            raise SeriesError(f"{path}: series {name!r} needs two rows to know its window length")
        series.step = found
    return list(by_key.values())


def run_series(series: CountSeries, detectors: Sequence[DetectorBase]) -> SeriesRun:
    """Close each row's window through the detectors, as the worker closes its windows."""
    step = series.step
    suite = DetectorSuite(detectors, step)
    states = suite.initial()
    alerted = [False] * len(series.counts)
    alerts: list[Fired] = []
    suppressed = 0
    expected = None
    baselines: list[float | None] = []
    close, skip = suite.close, suite.skip
    for i, (start, count) in enumerate(zip(series.starts, series.counts, strict=True)):
        if expected is not None and start > expected:
            gap = round((start - expected) / step)
            for f in skip(states, expected, step, gap):
                suppressed += not f.permitted
                if f.permitted:
                    alerts.append(f)
        decisions: list[tuple[DetectorBase, Decision]] = []
        fired = close(states, Observation(start, step, count), decisions)
        baselines.append(_baseline(decisions))
        for f in fired:
            if f.permitted:
                alerted[i] = True
                alerts.append(f)
            else:
                suppressed += 1
        expected = start + step
    return SeriesRun(series, alerted, alerts, suppressed, baselines)


def _baseline(decisions: list[tuple[DetectorBase, Decision]]) -> float | None:
    for det, decision in decisions:
        if not det.fixed_bar:
            return decision.baseline
    return None


def _column(path: Path, header: list[str], names: tuple[str, ...]) -> int:
    for name in names:
        if name in header:
            return header.index(name)
    raise SeriesError(f"{path}: needs a {' or '.join(names)} column; has {header}")


def _usual_step(series: CountSeries) -> float | None:
    gaps = Counter(b - a for a, b in itertools.pairwise(series.starts))
    return gaps.most_common(1)[0][0] if gaps else None
