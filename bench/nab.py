"""Detectors on the Numenta Anomaly Benchmark's realTweets files, with fixed alert decisions.

    python bench/nab.py [--nab ../shared/nab] [--quick | --wide]

The NAB files stay outside the repository; point ``--nab`` at a folder holding
``data/realTweets/*.csv``, ``labels/combined_windows.json`` and, if present, NAB's own
``nab_score.py``. Every score is of the alerts the detector actually raised (1.0 where it
alerted, 0.0 elsewhere), scored with threshold 0.5: nothing is tuned after the fact.

Prints:

1. the committed configuration (``streams/data/detectors-volume.yaml``, the default of
   ``watchfloor backtest --nab``): per-file and total NAB standard score, and the same
   outputs scored by ``nab_score.py`` with the difference between the two scorers;
2. leave-one-file-out: for each file, the configuration of a grid around the committed
   one that scores best on the other four, scored on the held-out file;
3. every detector kind: NAB score with its defaults and a one-day re-alert cooldown, and
   the best of a small grid (tuned on all five files, so flattered);
4. cost: detector updates (closed windows) per second for each kind, against the ingest
   agent's per-item core work (decode, validate, match) timed in the same run. A hit
   closes at most one window per key and window length, so a detector rate well above the
   ingest rate means detection is not the bottleneck.
5. backtest speed: a year of 5-minute windows for one key, read from CSV and detected.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from pydantic import ValidationError

from streams.backtest.command import backtest_nab, default_nab_detectors
from streams.backtest.evaluate import event_rows, labels_for, load_labels
from streams.backtest.nab import NabScore, score_series
from streams.backtest.series import CountSeries, read_count_csv, run_series
from streams.detect.detectors import (
    DETECTOR_KINDS,
    Cardinality,
    Cusum,
    DetectorBase,
    Flatline,
    NewTerm,
    Ratio,
    Seasonal,
    SeasonalQuantile,
    Significance,
    Threshold,
)
from streams.detect.realert import Realert
from streams.signals.hits import item_hits
from streams.signals.matcher import Matcher
from streams.signals.watchlist import load_watchlist
from streams.sources.decode import Rejection, decode_item
from streams.sources.samplefeed import FeedSpec, generate

DAY = Realert(cooldown="1d")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nab", default="../shared/nab", help="folder with data/ and labels/")
    parser.add_argument("--quick", action="store_true", help="smaller grids")
    parser.add_argument(
        "--wide", action="store_true", help="leave-one-file-out over beta and quantile_step too"
    )
    args = parser.parse_args()
    root = Path(args.nab)
    data, labels_path = root / "data", root / "labels" / "combined_windows.json"
    if not labels_path.is_file():
        print(f"nab: no {labels_path}; pass --nab", file=sys.stderr)
        return 2
    labels = load_labels(labels_path)
    series = {rel: read_count_csv(data / rel, key=rel)[0] for rel in sorted(labels)}
    spans = {rel: event_rows(s.starts, labels_for(labels, rel) or []) for rel, s in series.items()}

    committed = default_nab_detectors()
    print("1. committed configuration:", _describe(committed))
    with tempfile.TemporaryDirectory() as out:
        run = backtest_nab(data, labels, Path(out), committed)
        for rel, nab in run.files:
            print(
                f"   {rel:40s} hit {nab.detected}/{nab.windows}  FA {nab.false_alerts:2d}  "
                f"raw {nab.raw:8.4f}  NAB {nab.normalised:5.1f}"
            )
        print(
            f"   total NAB standard score {run.total.normalised:.4f} (raw {run.total.raw:.6f}, "
            f"hit {run.total.detected}/{run.total.windows}, FA {run.total.false_alerts})"
        )
        scorer = root / "nab_score.py"
        if scorer.is_file():
            printed = subprocess.run(
                [
                    sys.executable,
                    str(scorer),
                    out,
                    "--threshold",
                    "0.5",
                    "--data",
                    str(data),
                    "--windows",
                    str(labels_path),
                    "--json",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            theirs = json.loads(printed)["normalised"]
            print(
                f"   nab_score.py on the same outputs: {theirs:.4f}; "
                f"difference {abs(theirs - run.total.normalised):.2e}"
            )

    grid = _grid(args.quick, args.wide)
    print(f"\n2. leave-one-file-out over {len(grid)} configurations around the committed one")
    table = [[_score(series[rel], cfg, spans[rel]) for rel in series] for cfg in grid]
    held_out = []
    for k, rel in enumerate(series):
        best = max(
            range(len(grid)), key=lambda c: sum(s.raw for j, s in enumerate(table[c]) if j != k)
        )
        held_out.append(table[best][k])
        print(
            f"   {rel:40s} tuned on the others: {_describe(grid[best])}; held-out raw "
            f"{table[best][k].raw:7.4f} hit {table[best][k].detected}/{table[best][k].windows}"
        )
    print(f"   leave-one-file-out NAB standard score {NabScore.total(held_out).normalised:.2f}")
    best_all = max(range(len(grid)), key=lambda c: sum(s.raw for s in table[c]))
    print(
        f"   best on all five (in-sample): {NabScore.total(table[best_all]).normalised:.2f} "
        f"with {_describe(grid[best_all])}"
    )

    print("\n3. each detector kind (one-day re-alert cooldown); default parameters / best of grid")
    for kind, configs in _kind_grids(args.quick).items():
        scores = [
            NabScore.total([_score(series[rel], c, spans[rel]) for rel in series]) for c in configs
        ]
        best = max(range(len(configs)), key=lambda i: scores[i].raw)
        print(
            f"   {kind:18s} default {_brief(scores[0])}   best {_brief(scores[best])} "
            f"{_describe(configs[best])}"
        )

    print("\n4. cost: detector updates per second over all five files, against the ingest")
    print("   agent's core work per item (decode, validate, match) on the sample feed")
    items = [orjson.dumps(i) for i in generate(FeedSpec(days=28))]
    matcher = Matcher(load_watchlist())
    started = time.perf_counter()
    for value in items:
        item = decode_item(value)
        if not isinstance(item, Rejection):
            item_hits(matcher, item, 0.0, 0.0)
    base = len(items) / (time.perf_counter() - started)
    print(f"   {'ingest core (baseline)':26s} {base:12,.0f} items/s")
    rows = sum(len(s.counts) for s in series.values())
    bundled = load_watchlist().detectors
    kinds = {"bundled default": bundled} | {k: c[0] for k, c in _kind_grids(True).items()}
    for kind, detectors in kinds.items():
        started = time.perf_counter()
        for one in series.values():
            run_series(one, detectors)
        rate = rows / (time.perf_counter() - started)
        print(f"   {kind:26s} {rate:12,.0f} windows/s   {rate / base:5.1f}x the ingest core")

    print("\n5. backtest speed: one key, a year of 5-minute windows from CSV (read + detect)")
    with tempfile.TemporaryDirectory() as tmp:
        year = Path(tmp) / "year.csv"
        _write_year(year)
        for name, detectors in (("bundled default", bundled), ("committed NAB", committed)):
            started = time.perf_counter()
            [one] = read_count_csv(year)
            run_series(one, detectors)
            seconds = time.perf_counter() - started
            print(f"   {name:26s} {len(one.counts):,} windows in {seconds:.2f} s")
    return 0


def _write_year(path: Path) -> None:
    """A year of 5-minute counts with a daily rhythm and Poisson-like noise."""
    rng = random.Random(7)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with path.open("w") as fh:
        fh.write("timestamp,value\n")
        for i in range(365 * 288):
            at = start + timedelta(minutes=5 * i)
            level = 20 + 15 * math.sin(2 * math.pi * (at.hour - 8) / 24)
            fh.write(f"{at:%Y-%m-%d %H:%M:%S},{max(0, round(rng.gauss(level, level**0.5)))}\n")


def _score(
    series: CountSeries, detectors: list[DetectorBase], spans: list[tuple[int, int]]
) -> NabScore:
    return score_series(run_series(series, detectors).alerted, spans)


def _brief(score: NabScore) -> str:
    hit = f"{score.detected}/{score.windows}"
    return f"{score.normalised:6.1f} (hit {hit}, FA {score.false_alerts:3d})"


def _describe(detectors: Sequence[DetectorBase]) -> str:
    parts = []
    for d in detectors:
        changed = d.model_dump(exclude_defaults=True, exclude={"kind", "realert"})
        args = ", ".join(f"{k}={v}" for k, v in changed.items())
        parts.append(f"{d.kind}({args})")
    return " + ".join(parts)


def _grid(quick: bool, wide: bool) -> list[list[DetectorBase]]:
    base = default_nab_detectors()[0]
    assert isinstance(base, SeasonalQuantile)
    axes: dict[str, list[float]] = {
        "threshold": [0.85, 0.95, 1.05] if quick else [0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1],
        "smooth": [3, 6] if quick else [1, 3, 6, 12],
        "half_life": [3.0, 6.0] if quick else [3.0, 6.0, 12.0],
        "quantile": [0.999] if quick else [0.99, 0.999],
    }
    if wide:
        axes |= {"beta": [1.0, 2.0, 4.0], "quantile_step": [0.05, 0.1, 0.2]}
    return [
        [base.model_copy(update=dict(zip(axes, values, strict=True)))]
        for values in itertools.product(*axes.values())
    ]


def _kind_grids(quick: bool) -> dict[str, list[list[DetectorBase]]]:
    """Per kind: its defaults first, then a small grid (5-minute windows: 288 a day)."""

    def grid(
        cls: type[DetectorBase], required: dict[str, object], **axes: list[object]
    ) -> list[list[DetectorBase]]:
        if quick:
            axes = {k: v[:2] for k, v in axes.items()}
        out: list[list[DetectorBase]] = [[cls(realert=DAY, **required)]]
        for values in itertools.product(*axes.values()):
            params = required | dict(zip(axes, values, strict=True))
            out.append([cls(realert=DAY, **params)])
        return out

    grids = {
        "threshold": grid(Threshold, {"count": 100}, count=[100, 200, 400, 800], windows=[1, 6]),
        "ratio": grid(Ratio, {}, height=[3.0, 5.0, 10.0], reference_windows=[12, 288]),
        "significance": grid(Significance, {}, half_life=[288.0, 2016.0], threshold=[4, 8, 16]),
        "seasonal": grid(Seasonal, {}, p_value=[1e-6, 1e-12, 1e-20], half_life=[7.0, 14.0]),
        "seasonal_quantile": grid(SeasonalQuantile, {}, threshold=[0.9, 0.95, 1.0], smooth=[3, 6]),
        "cusum": grid(Cusum, {}, h=[10.0, 30.0, 100.0], k=[0.5, 2.0], half_life=[288.0, 2016.0]),
        "flatline": grid(Flatline, {}, windows=[12, 48, 288]),
        "new_term": grid(NewTerm, {}, min_count=[1, 100]),
        "cardinality": grid(Cardinality, {"max_publishers": 0}),
    }
    # Detectors from installed plugins: their defaults, when they have defaults.
    for kind, cls in DETECTOR_KINDS.items():
        if kind not in grids:
            try:
                grids[kind] = [[cls(realert=DAY)]]
            except ValidationError as exc:
                print(f"{kind}: skipped, no defaults to run ({exc.error_count()} errors)")
    return grids


if __name__ == "__main__":
    sys.exit(main())
