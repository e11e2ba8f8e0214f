"""``watchfloor backtest``: replay history through the worker's detection code, no Kafka.

Three inputs:

- raw items (JSONL, ``.jsonl.gz``, markdown articles, or a folder of them): matched and
  counted by the same code as the worker (``streams.offline``), so the alerts are the
  ones the worker would raise;
- count series (CSV of ``timestamp,value`` and optionally ``key``): each row a window,
  judged by the given detectors;
- ``--nab DATA_DIR LABELS``: the Numenta Anomaly Benchmark's layout; writes one
  ``timestamp,anomaly_score`` CSV per data file (1.0 where an alert went out) and prints
  the NAB standard score.
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TextIO

from streams.backtest.evaluate import KeyReport, Labels, evaluate, labels_for
from streams.backtest.nab import NabScore
from streams.backtest.series import CountSeries, SeriesError, read_count_csv, run_series
from streams.detect.detectors import DetectorBase, load_detectors
from streams.offline import OfflineRun, run_offline
from streams.progress import Progress
from streams.settings import Settings
from streams.sources.files import iter_records

__all__ = [
    "NabRun",
    "backtest_counts",
    "backtest_items",
    "backtest_nab",
    "default_nab_detectors",
    "format_reports",
]


def default_nab_detectors() -> list[DetectorBase]:
    """The committed configuration for count series of social-media volume (see docs)."""
    source = resources.files("streams.data").joinpath("detectors-volume.yaml")
    with resources.as_file(source) as path:
        return load_detectors(path)


def backtest_counts(
    paths: Sequence[Path],
    detectors: Sequence[DetectorBase],
    labels: Labels | None,
    root: Path | None = None,
) -> list[KeyReport]:
    """Count CSVs; a file without a key column is keyed by its path under ``root``."""
    reports = []
    progress = Progress("backtest", len(paths))
    for done, path in enumerate(paths, start=1):
        name = path.relative_to(root).as_posix() if root is not None else path.name
        for series in read_count_csv(path, key=name):
            grid, alerted = run_series(series, detectors).grid()
            events = labels_for(labels, series.key) if labels is not None else None
            reports.append(evaluate(series.key, grid, series.step, alerted, events))
        progress.update(done)
    return reports


def backtest_items(path: Path, settings: Settings, labels: Labels | None) -> list[KeyReport]:
    def values() -> Iterator[bytes]:
        for record in iter_records(path):
            if record.value is None:
                print(f"backtest: skipped {record.where}: {record.error}", file=sys.stderr)
            else:
                yield record.value

    run = run_offline(values(), settings, progress=Progress("backtest", None), flush=True)
    return reports_from_run(run, labels)


def reports_from_run(run: OfflineRun, labels: Labels | None) -> list[KeyReport]:
    """Per key, the buckets from its first hit to the end, and in which a burst opened
    (in the last bucket of the window that opened it, whatever its scale). Updates of a
    burst are not judged on their own: the burst was right or wrong when it opened."""
    step = run.step
    alerted_at: dict[str, set[float]] = defaultdict(set)
    for alert in run.alerts:
        if alert.update == "opened":
            alerted_at[alert.key].add(alert.window_end.timestamp() - step)
    reports = []
    for key, (first, last) in sorted(run.key_windows.items()):
        count = round((last - first) / step) + 1
        starts = [first + i * step for i in range(count)]
        alerted = [s in alerted_at[key] for s in starts]
        events = labels_for(labels, key) if labels is not None else None
        reports.append(evaluate(key, starts, step, alerted, events))
    return reports


@dataclass
class NabRun:
    files: list[tuple[str, NabScore]]

    @property
    def total(self) -> NabScore:
        return NabScore.total(score for _, score in self.files)


def backtest_nab(
    data_dir: Path, labels: Labels, out_dir: Path, detectors: Sequence[DetectorBase]
) -> NabRun:
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    progress = Progress("backtest --nab", len(labels))
    for done, rel in enumerate(sorted(labels), start=1):
        found = read_count_csv(data_dir / rel, key=rel)
        if len(found) != 1:
            raise SeriesError(f"{data_dir / rel}: NAB files hold one series, found {len(found)}")
        series = found[0]
        run = run_series(series, detectors)
        # NAB's layout: results/<subset>/<file>, the data file's own relative path.
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_nab_output(target, series, run.alerted)
        report = evaluate(rel, series.starts, series.step, run.alerted, labels[rel])
        assert report.nab is not None
        files.append((rel, report.nab))
        progress.update(done)
    return NabRun(files)


def format_reports(reports: Sequence[KeyReport], out: TextIO | None = None) -> None:
    out = out if out is not None else sys.stdout
    out.write(
        f"{'key':44s} {'days':>6s} {'alerts':>6s} {'events':>6s} {'hit':>4s} {'prec':>5s} "
        f"{'recall':>6s} {'delay':>5s} {'FA/day':>6s} {'NAB':>6s}\n"
    )
    for r in reports:
        out.write(
            f"{r.key[:44]:44s} {r.days:6.1f} {r.alerts:6d} {_int(r.events):>6s} "
            f"{_int(r.detected if r.events is not None else None):>4s} {_pct(r.precision):>5s} "
            f"{_pct(r.recall):>6s} {_num(r.median_delay):>5s} {_pct(r.false_per_day):>6s} "
            f"{_num(r.nab.normalised if r.nab else None):>6s}\n"
        )
    labelled = [r for r in reports if r.nab is not None]
    if labelled:
        total = NabScore.total(r.nab for r in labelled if r.nab is not None)
        alerts = sum(r.alerts for r in labelled)
        true = sum(r.true_alerts for r in labelled)
        events = sum(r.events or 0 for r in labelled)
        detected = sum(r.detected for r in labelled)
        days = sum(r.days for r in labelled)
        out.write(
            f"{'all labelled keys':44s} {days:6.1f} {alerts:6d} {events:6d} {detected:4d} "
            f"{_pct(true / alerts if alerts else None):>5s} "
            f"{_pct(detected / events if events else None):>6s} {'':5s} "
            f"{(alerts - true) / days if days else 0:6.2f} {_num(total.normalised):>6s}\n"
        )


def _write_nab_output(path: Path, series: CountSeries, alerted: Sequence[bool]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["timestamp", "anomaly_score"])
        for ts, alert in zip(series.timestamps, alerted, strict=True):
            writer.writerow([ts, "1.0" if alert else "0.0"])


def _int(v: int | None) -> str:
    return "-" if v is None else str(v)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"
