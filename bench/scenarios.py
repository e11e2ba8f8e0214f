"""Every detector on the synthetic OSINT scenarios: events caught, delay, false alerts.

    python bench/scenarios.py [--seeds 10]

Runs each detector configuration below on the scenarios it is meant for (spike
detectors on bursts of six shapes, ``flatline`` on a feed that dies, ``new_term`` on a
region appearing, ``cardinality`` on a one-outlet burst), plus 60 quiet days, through
the worker's matching, windows and detection (hourly windows, 15 minutes of grace).
Prints per configuration: events alerted, median delay in windows (0: the event's first
window alerted), false alerts per 30 quiet days, and the wall time.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta

from pydantic import ValidationError

from streams.backtest.scenarios import BURSTS, START, scenarios
from streams.backtest.scorecard import score_detectors
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
from streams.signals.watchlist import load_watchlist

SPIKES = [k for k in BURSTS if k != "one_outlet"]
AGAIN = Realert(cooldown="3h", backoff=2, max_cooldown="1d")

# name -> (detectors, scenario kinds). Parameters are for hourly windows of OSINT reports.
CONFIGS: dict[str, tuple[list[DetectorBase], list[str]]] = {
    "bundled watchlist default": (load_watchlist().detectors, [*SPIKES, "quiet"]),
    "threshold count=7": ([Threshold(count=7, realert=AGAIN)], [*SPIKES, "quiet"]),
    "ratio height=4": ([Ratio(height=4, min_count=5, realert=AGAIN)], [*SPIKES, "quiet"]),
    "significance (SigniTrend defaults)": ([Significance(realert=AGAIN)], [*SPIKES, "quiet"]),
    "significance threshold=2.5": (
        [Significance(threshold=2.5, realert=AGAIN)],
        [*SPIKES, "quiet"],
    ),
    "seasonal (defaults)": ([Seasonal(realert=AGAIN)], [*SPIKES, "quiet"]),
    "seasonal_quantile (defaults)": ([SeasonalQuantile(realert=AGAIN)], [*SPIKES, "quiet"]),
    "cusum (defaults)": ([Cusum(realert=AGAIN)], [*SPIKES, "quiet"]),
    "flatline windows=24": (
        [Flatline(windows=24, realert=Realert(cooldown="1d", backoff=2, max_cooldown="1w"))],
        ["silence", "quiet"],
    ),
    "new_term since=day 7": ([NewTerm(since=START + timedelta(days=7))], ["new_region", "quiet"]),
    "cardinality min_publishers=2": (
        [Cardinality(min_publishers=2, min_count=5, realert=AGAIN)],
        ["one_outlet", "quiet"],
    ),
}
# Every other registered detector (a new one, a plugin's) at its defaults, on the spikes.
_COVERED = {d.kind for detectors, _ in CONFIGS.values() for d in detectors}
for _kind, _cls in DETECTOR_KINDS.items():
    if _kind not in _COVERED:
        try:
            CONFIGS[f"{_kind} (defaults)"] = ([_cls(realert=AGAIN)], [*SPIKES, "quiet"])
        except ValidationError as exc:
            print(f"{_kind}: skipped, no defaults to run ({exc.error_count()} errors)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="scenarios of each kind")
    args = parser.parse_args()
    seeds = range(1, args.seeds + 1)
    live = sys.stderr.isatty()
    head = f"{'configuration':36s} {'alerted':>9s} {'delay':>6s} {'FA/30d':>7s} {'seconds':>8s}"
    print(head + "  missed")
    for name, (detectors, kinds) in CONFIGS.items():
        if live:
            print(f"  {name} ...", end="\r", file=sys.stderr, flush=True)
        started = time.perf_counter()
        card = score_detectors(detectors, scenarios(seeds, kinds))
        seconds = time.perf_counter() - started
        delay = "-" if card.median_delay is None else f"{card.median_delay:g}"
        print(
            f"{name:36s} {card.detected:4d}/{card.events:<4d} {delay:>6s} "
            f"{card.false_per_30_days:7.2f} {seconds:8.1f}  {' '.join(card.missed[:6])}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
