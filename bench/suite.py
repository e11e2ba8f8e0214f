"""The OSINT scenario suite: bursts of five shapes found, how soon, and false alerts.

    python bench/suite.py [--seeds 10] [--loo]

Runs every scenario of ``streams.backtest.osint`` (five burst shapes and a quiet month,
each seed a new feed) through the worker's matching, windows and detection
(``streams.offline``) with the bundled watchlist, and prints per shape: bursts alerted,
median and longest delay from the burst's first report to the event time its first
alert went out, then false alerts (bursts opened where none was) per 30 quiet days,
storms alerted and alerts per found burst.

With ``--loo`` it also chooses the detector's parameters by leave-one-seed-out: for each
seed, the configuration of a small grid that scores best on the other seeds is scored on
the held-out seed, and the held-out results are added up.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Sequence

import orjson

from streams.backtest.osint import KINDS, SHAPES, SuiteCard, scenario, score
from streams.detect.detectors import DetectorBase, Seasonal
from streams.offline import run_offline
from streams.settings import Settings
from streams.signals.watchlist import Watchlist, load_watchlist


def run_suite(watchlist: Watchlist, seeds: Sequence[int], label: str = "") -> dict[int, SuiteCard]:
    """One card per seed, over every kind of scenario."""
    settings = Settings()
    cards: dict[int, SuiteCard] = {}
    total, done = len(seeds) * len(KINDS), 0
    for seed in seeds:
        card = SuiteCard()
        for kind in KINDS:
            case = scenario(kind, seed)
            run = run_offline(
                (orjson.dumps(i) for i in case.items), settings, flush=True, watchlist=watchlist
            )
            card.add(score(case, run.alerts, settings.window_grace))
            done += 1
            if sys.stderr.isatty():
                print(f"  {label} {done}/{total}", end="\r", file=sys.stderr, flush=True)
        cards[seed] = card
    return cards


def total(cards: Sequence[SuiteCard]) -> SuiteCard:
    out = SuiteCard()
    for card in cards:
        out.add(card)
    return out


def print_card(card: SuiteCard) -> None:
    print(f"{'shape':14s} {'found':>7s} {'median delay h':>15s} {'max delay h':>12s}")
    for kind in SHAPES:
        delays = card.delays.get(kind, [])
        found, n = card.found.get(kind, 0), card.bursts.get(kind, 0)
        median = f"{statistics.median(delays):.2f}" if delays else "-"
        longest = f"{max(delays):.2f}" if delays else "-"
        print(f"{kind:14s} {found:3d}/{n:<3d} {median:>15s} {longest:>12s}")
    per_burst = statistics.median(card.alerts_per_burst) if card.alerts_per_burst else 0
    print(
        f"false alerts per 30 quiet days {card.false_per_30_days:.3f} "
        f"({card.false_alerts} in {card.quiet_days:.0f} days); storms alerted "
        f"{card.storms_alerted}/{card.storms}; alerts per found burst (median) {per_burst:g}"
    )


# The bar a configuration must clear: false alerts per 30 quiet days.
FALSE_ALERT_BAR = 0.1


def objective(card: SuiteCard) -> float:
    """Bursts found first; then staying under the false-alert bar and alerting no storm;
    then alerting sooner (a hundredth of a burst per hour of median delay)."""
    delays = [d for kind in card.delays for d in card.delays[kind]]
    delay = statistics.median(delays) if delays else 24.0
    over = max(0.0, card.false_per_30_days - FALSE_ALERT_BAR)
    return card.recall() - 10 * over - card.storms_alerted - 0.01 * delay


def with_detectors(watchlist: Watchlist, detectors: list[DetectorBase]) -> Watchlist:
    return watchlist.model_copy(update={"detectors": detectors})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--loo", action="store_true", help="choose parameters leave-one-out")
    args = parser.parse_args()
    seeds = list(range(1, args.seeds + 1))
    bundled = load_watchlist()
    started = time.perf_counter()
    print(f"bundled watchlist ({bundled.version}), {len(seeds)} seeds")
    print_card(total(list(run_suite(bundled, seeds, "bundled").values())))
    print(f"{time.perf_counter() - started:.0f} s")
    if not args.loo:
        return 0
    [base] = bundled.detectors
    assert isinstance(base, Seasonal)
    grid = {
        f"p_value={p:g} cold_count={c}": base.model_copy(update={"p_value": p, "cold_count": c})
        for p, c in itertools.product([1e-3, 1e-4, 1e-5], [None, 8, 12])
    }
    per_config = {
        name: run_suite(with_detectors(bundled, [det]), seeds, name) for name, det in grid.items()
    }
    held_out = SuiteCard()
    print("\nleave-one-seed-out: the configuration best on the other seeds, on the held-out one")
    for seed in seeds:
        rest = [s for s in seeds if s != seed]
        best = max(grid, key=lambda name: objective(total([per_config[name][s] for s in rest])))
        held_out.add(per_config[best][seed])
        print(f"  seed {seed:2d}: {best}")
    print_card(held_out)
    print("\nevery configuration on all seeds")
    for name in grid:
        card = total(list(per_config[name].values()))
        print(
            f"  {name:28s} recall {card.recall():.3f} FA/30d {card.false_per_30_days:.3f} "
            f"storms {card.storms_alerted} median delay h "
            f"{statistics.median(d for ds in card.delays.values() for d in ds):.2f} "
            f"objective {objective(card):.3f}"
        )
    print(f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
