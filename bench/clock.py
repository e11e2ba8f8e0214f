"""One outlet whose clock runs three hours ahead: what it does to everyone else's reports.

    python bench/clock.py [--seeds 5] [--hours 3]

Takes scenarios of the OSINT suite (``streams.backtest.osint``: sharp and medium bursts,
outlets collected late), moves every ``published_at`` of the busiest outlet ``--hours``
(3) ahead (a time-zone mistake, well inside the one-day ``future_timestamp`` rule), and runs
each feed offline through the worker's code with the partition's event time taken two ways:
the plain maximum (``WATCHFLOOR_WATERMARK_OUTLETS=1``, as Kafka Streams and Flink do) and
the second most advanced outlet (``2``, the default). Prints signal hits counted late
(in no window), windows revised by late reports, bursts found and their median delay.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from datetime import datetime, timedelta

import orjson

from streams.backtest.osint import SuiteCard, scenario, score
from streams.detect.engine import HitOutcome
from streams.offline import run_offline
from streams.settings import Settings


def skewed(items: list[dict[str, object]], shift: timedelta) -> list[dict[str, object]]:
    busiest, _ = Counter(str(i.get("publisher")) for i in items).most_common(1)[0]
    out = []
    for item in items:
        if str(item.get("publisher")) == busiest:
            at = datetime.fromisoformat(str(item["published_at"])) + shift
            item = {**item, "published_at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        out.append(item)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--hours", type=float, default=3.0, help="how far the clock is ahead")
    args = parser.parse_args()
    print(f"{'clock':10s} {'event time':12s} {'hits':>6s} {'late':>6s} {'revised':>8s} "
          f"{'found':>6s} {'median delay h':>15s}")  # fmt: skip
    for clock in ("honest", f"{args.hours:g} h ahead"):
        for outlets in (1, 2):
            settings = Settings(watermark_outlets=outlets)
            card, late, hits, revised = SuiteCard(), 0, 0, 0
            for seed in range(1, args.seeds + 1):
                for kind in ("sharp", "medium"):
                    case = scenario(kind, seed)
                    items = (
                        case.items
                        if clock == "honest"
                        else skewed(case.items, timedelta(hours=args.hours))
                    )
                    run = run_offline((orjson.dumps(i) for i in items), settings, flush=True)
                    card.add(score(case, run.alerts, settings.window_grace))
                    late += run.outcomes[HitOutcome.LATE]
                    hits += sum(run.outcomes.values())
                    revised += run.revised
            delays = [d for ds in card.delays.values() for d in ds]
            found = sum(card.found.values())
            rule = "plain max" if outlets == 1 else "2nd outlet"
            median = f"{statistics.median(delays):.2f}" if delays else "-"
            print(
                f"{clock:10s} {rule:12s} {hits:6d} {late:6d} {revised:8d} "
                f"{found:3d}/{sum(card.bursts.values()):<2d} {median:>15s}"
            )
            if sys.stderr.isatty():
                print("", file=sys.stderr, end="", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
