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
the held-out seed, and the held-out results are added up. A configuration is scored on
both families of scenarios: this suite, and the denser ones of ``bench/scenarios.py``
(a signal of about 14 reports a day, bursts of six shapes, quiet days), each with its
own false-alert bar.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import orjson

from streams.backtest.osint import KINDS, SHAPES, SuiteCard, scenario, score
from streams.backtest.scenarios import BURSTS, scenarios
from streams.backtest.scorecard import Scorecard, score_detectors
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


# The bars a configuration must clear: false alerts per 30 quiet days, on this suite's
# sparse signals and on the denser scenarios (as tests/unit/test_scenarios.py holds it).
FALSE_ALERT_BAR = 0.1
DENSE_FALSE_ALERT_BAR = 1.0


def objective(card: SuiteCard, dense: Scorecard) -> float:
    """Bursts found first (on both families); then staying under each false-alert bar and
    alerting no storm; then alerting sooner (a hundredth of a burst per hour of median
    delay on this suite)."""
    delays = [d for kind in card.delays for d in card.delays[kind]]
    delay = statistics.median(delays) if delays else 24.0
    over = max(0.0, card.false_per_30_days - FALSE_ALERT_BAR)
    dense_over = max(0.0, dense.false_per_30_days - DENSE_FALSE_ALERT_BAR) / 10
    dense_recall = dense.detected / dense.events if dense.events else 0.0
    return (
        (card.recall() + dense_recall) / 2
        - 10 * (over + dense_over)
        - card.storms_alerted
        - 0.01 * delay
    )


def run_dense(detectors: list[DetectorBase], seeds: Sequence[int]) -> dict[int, Scorecard]:
    """One card per seed on the denser scenarios of ``bench/scenarios.py``."""
    kinds = [k for k in BURSTS if k != "one_outlet"] + ["quiet"]
    return {seed: score_detectors(detectors, scenarios([seed], kinds)) for seed in seeds}


def dense_total(cards: Sequence[Scorecard]) -> Scorecard:
    out = Scorecard()
    for card in cards:
        out.events += card.events
        out.detected += card.detected
        out.delays += card.delays
        out.false_alerts += card.false_alerts
        out.quiet_days += card.quiet_days
        out.missed += card.missed
    return out


def _score_config(
    task: tuple[str, Seasonal, list[int]],
) -> tuple[str, dict[int, SuiteCard], dict[int, Scorecard]]:
    name, det, seeds = task
    suite = run_suite(with_detectors(load_watchlist(), [det]), seeds, name)
    return name, suite, run_dense([det], seeds)


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
    # Both cores: each configuration is independent of the others.
    with ProcessPoolExecutor(max_workers=2) as pool:
        scored = list(pool.map(_score_config, [(n, d, seeds) for n, d in grid.items()]))
    per_config = {name: suite for name, suite, _ in scored}
    per_dense = {name: dense for name, _, dense in scored}

    def score(name: str, among: Sequence[int]) -> float:
        return objective(
            total([per_config[name][s] for s in among]),
            dense_total([per_dense[name][s] for s in among]),
        )

    held_out, held_dense = SuiteCard(), []
    print("\nleave-one-seed-out: the configuration best on the other seeds, on the held-out one")
    for seed in seeds:
        best = max(grid, key=lambda name: score(name, [s for s in seeds if s != seed]))
        held_out.add(per_config[best][seed])
        held_dense.append(per_dense[best][seed])
        print(f"  seed {seed:2d}: {best}")
    print_card(held_out)
    dense = dense_total(held_dense)
    print(
        f"denser scenarios, held out: {dense.detected}/{dense.events} bursts, "
        f"false alerts per 30 quiet days {dense.false_per_30_days:.2f}"
    )
    print("\nevery configuration on all seeds (suite; denser scenarios)")
    for name in grid:
        card = total(list(per_config[name].values()))
        dense = dense_total(list(per_dense[name].values()))
        print(
            f"  {name:28s} recall {card.recall():.3f} FA/30d {card.false_per_30_days:.3f} "
            f"storms {card.storms_alerted} median delay h "
            f"{statistics.median(d for ds in card.delays.values() for d in ds):.2f}; "
            f"{dense.detected}/{dense.events} FA/30d {dense.false_per_30_days:.2f}; "
            f"objective {score(name, seeds):.3f}"
        )
    print(f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
