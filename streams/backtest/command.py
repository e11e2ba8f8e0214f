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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TextIO

from streams.backtest.evaluate import KeyReport, Labels, evaluate, labels_for
from streams.backtest.nab import NabScore
from streams.backtest.results import ALL_DETECTORS, AlertRow, Backtest, KeyTrace
from streams.backtest.series import CountSeries, SeriesError, read_count_csv, run_series
from streams.detect.detectors import DetectorBase, load_detectors
from streams.detect.suite import Fired
from streams.offline import OfflineRun, run_offline
from streams.progress import Progress
from streams.settings import Settings
from streams.signals.watchlist import load_watchlist
from streams.sources.files import iter_records, list_inputs

__all__ = [
    "NabRun",
    "backtest_counts",
    "backtest_from_run",
    "backtest_items",
    "backtest_nab",
    "count_records",
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
) -> Backtest:
    """Count CSVs; a file without a key column is keyed by its path under ``root``."""
    result = Backtest([], [], [])
    progress = Progress("backtest", len(paths))
    several = len(detectors) > 1
    for done, path in enumerate(paths, start=1):
        name = path.relative_to(root).as_posix() if root is not None else path.name
        for series in read_count_csv(path, key=name):
            run = run_series(series, detectors)
            grid, alerted = run.grid()
            events = labels_for(labels, series.key) if labels is not None else None
            result.reports.append(evaluate(series.key, grid, series.step, alerted, events))
            rows = [_fired_row(series.key, series.step, f) for f in run.alerts]
            if several:
                for det in detectors:
                    mine = {r.window_start for r in rows if r.detector == det.label}
                    flags = [start in mine for start in grid]
                    result.reports.append(
                        evaluate(series.key, grid, series.step, flags, events, det.label)
                    )
            result.alerts += rows
            result.traces.append(
                KeyTrace(
                    series.key,
                    series.step,
                    list(series.starts),
                    list(series.counts),
                    run.baselines,
                    rows,
                    events,
                )
            )
        progress.update(done)
    return result


def _fired_row(key: str, step: float, fired: Fired) -> AlertRow:
    obs, decision = fired.obs, fired.decision
    return AlertRow(
        key,
        obs.start,
        obs.start + step,
        fired.detector.label,
        _scale(step),
        "opened",
        obs.count,
        decision.baseline,
    )


def backtest_items(path: Path, settings: Settings, labels: Labels | None) -> Backtest:
    def values() -> Iterator[bytes]:
        for record in iter_records(path):
            if record.value is None:
                print(f"backtest: skipped {record.where}: {record.error}", file=sys.stderr)
            else:
                yield record.value

    progress = Progress("backtest", count_records(path))
    run = run_offline(values(), settings, progress=progress, flush=True)
    return backtest_from_run(run, labels, load_watchlist(settings.watchlist).detectors_of_key)


def backtest_from_run(
    run: OfflineRun,
    labels: Labels | None,
    detectors_of: Callable[[str], Sequence[DetectorBase]],
) -> Backtest:
    """The figures, alerts and pictures of an offline run. Figures per detector count the
    bursts each detector opened; a picture's baseline replays the key's final counts
    through its detectors at the shortest scale (the worker's judgement of a window can
    differ where late reports revised it)."""
    result = Backtest(reports_from_run(run, labels), [], [])
    step = run.step
    rows: dict[str, list[AlertRow]] = defaultdict(list)
    for alert in run.alerts:
        rows[alert.key].append(
            AlertRow(
                alert.key,
                alert.window_start.timestamp(),
                alert.window_end.timestamp(),
                alert.detector.name,
                alert.scale,
                alert.update,
                alert.count,
                alert.baseline,
                alert.severity,
            )
        )
    for key, (first, last) in sorted(run.key_windows.items()):
        starts = [first + i * step for i in range(round((last - first) / step) + 1)]
        events = labels_for(labels, key) if labels is not None else None
        detectors = detectors_of(key)
        if len(detectors) > 1:
            for det in detectors:
                opened = {
                    r.window_end - step
                    for r in rows[key]
                    if r.detector == det.label and r.update == "opened"
                }
                flags = [s in opened for s in starts]
                result.reports.append(evaluate(key, starts, step, flags, events, det.label))
        counts = [run.counts.get((key, s), 0) for s in starts]
        series = CountSeries(key, step, starts, counts)
        baselines = run_series(series, detectors).baselines if starts else []
        result.traces.append(KeyTrace(key, step, starts, counts, baselines, rows[key], events))
        result.alerts += rows[key]
    result.reports.sort(key=lambda r: (r.key, r.detector != ALL_DETECTORS, r.detector))
    return result


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


def count_records(path: Path) -> int | None:
    """Records in a JSONL file or a folder of them, by counting lines; None where that is
    not cheap to know (compressed files) or not a line count (markdown, CSV)."""
    total = 0
    for file in list_inputs(path):
        if file.suffix.lower() != ".jsonl":
            return None
        with file.open("rb") as fh:
            total += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    return total


def _scale(step: float) -> str:
    for unit, seconds in (("d", 86400), ("h", 3600), ("m", 60)):
        if step % seconds == 0:
            return f"{int(step // seconds)}{unit}"
    return f"{step:g}s"


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


def format_reports(backtest: Backtest, out: TextIO | None = None) -> None:
    """The figures per key (and per detector where a key has several), then every alert."""
    out = out if out is not None else sys.stdout
    reports = backtest.reports
    width = max([len("key"), *(len(r.key) for r in reports)])
    dwidth = max([len("detector"), *(len(r.detector) for r in reports)])
    out.write(
        f"{'key':{width}s} {'detector':{dwidth}s} {'days':>6s} {'alerts':>6s} {'events':>6s} "
        f"{'hit':>4s} {'prec':>5s} {'recall':>6s} {'delay':>5s} {'FA/day':>6s} {'NAB':>6s}\n"
    )
    for r in reports:
        out.write(
            f"{r.key:{width}s} {r.detector:{dwidth}s} {r.days:6.1f} {r.alerts:6d} "
            f"{_int(r.events):>6s} {_int(r.detected if r.events is not None else None):>4s} "
            f"{_pct(r.precision):>5s} {_pct(r.recall):>6s} {_num(r.median_delay):>5s} "
            f"{_pct(r.false_per_day):>6s} {_num(r.nab.normalised if r.nab else None):>6s}\n"
        )
    labelled = [r for r in reports if r.nab is not None and r.detector == ALL_DETECTORS]
    if labelled:
        total = NabScore.total(r.nab for r in labelled if r.nab is not None)
        alerts = sum(r.alerts for r in labelled)
        true = sum(r.true_alerts for r in labelled)
        events = sum(r.events or 0 for r in labelled)
        detected = sum(r.detected for r in labelled)
        days = sum(r.days for r in labelled)
        out.write(
            f"{'all labelled keys':{width}s} {ALL_DETECTORS:{dwidth}s} {days:6.1f} {alerts:6d} "
            f"{events:6d} {detected:4d} {_pct(true / alerts if alerts else None):>5s} "
            f"{_pct(detected / events if events else None):>6s} {'':5s} "
            f"{(alerts - true) / days if days else 0:6.2f} {_num(total.normalised):>6s}\n"
        )
    if backtest.alerts:
        out.write(f"\n{len(backtest.alerts)} alerts\n")
        out.write(
            f"{'time (window end, UTC)':25s} {'key':{width}s} {'detector':{dwidth}s} "
            f"{'scale':>5s} {'update':10s} {'count':>5s} {'expected':>8s} severity\n"
        )
        for a in sorted(backtest.alerts, key=lambda a: (a.window_end, a.key)):
            when = datetime.fromtimestamp(a.window_end, UTC).strftime("%Y-%m-%d %H:%M")
            out.write(
                f"{when:25s} {a.key:{width}s} {a.detector:{dwidth}s} {a.scale:>5s} "
                f"{a.update:10s} {a.count:5d} {a.baseline:8.1f} {a.severity or '-'}\n"
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
