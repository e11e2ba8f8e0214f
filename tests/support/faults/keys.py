"""Fault: a feed whose every report names a region of its own, so every report a new key."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from streams.sources.samplefeed import SIGNAL_IDS, signal_reports
from tests.support.faults.accounting import FaultReport
from tests.support.faults.scenarios import RECEIVED, Run
from tests.support.worker_process import Samples, WorkerProcess, isolated_settings, total

__all__ = ["keys_feed", "many_keys"]

COUNTED = (
    "watchfloor_hits_counted_total",
    "watchfloor_duplicates_dropped_total",
    "watchfloor_syndicated_copies_total",
    "watchfloor_late_events_total",
)


def keys_feed(items: int, keys: int, days: float = 10.0, hot_every: int = 50) -> list[bytes]:
    """``items`` reports of the five signals spread evenly over ``days`` up to an hour
    ago, over ``keys`` regions (a report's region is its number modulo ``keys``), each
    worded afresh; every ``hot_every``-th report is of one busy key instead, which
    alerts."""
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    start = end - timedelta(days=days)
    gap = (end - start) / items
    lines = []
    for n in range(items):
        signal = SIGNAL_IDS[n % len(SIGNAL_IDS)]
        region = "Minsk" if n % hot_every == 0 else f"Region {n % keys}"
        [item] = signal_reports(n, signal, region, [start + n * gap])
        item["id"] = f"keys-{n}"
        lines.append(orjson.dumps(item))
    return lines


def _timed(run: Run) -> tuple[WorkerProcess, float]:
    """The run's feed sent in full, then a worker started on it: its items/s from its
    first record received to its last hit accounted, and the worker."""
    run.send()
    worker = run.start_worker(timeout=120)
    sent = len(run.lines)

    def first(samples: Samples) -> bool:
        return total(samples, RECEIVED) > 0

    def last(samples: Samples) -> bool:
        hits = total(samples, "watchfloor_signal_hits_total")
        counted = sum(total(samples, name) for name in COUNTED)
        return total(samples, RECEIVED) >= sent and counted >= hits

    worker.wait_for("its first record", first, 120, poll=0.05)
    began = time.monotonic()
    worker.wait_for("every record", last, 1800, poll=0.2)
    return worker, sent / (time.monotonic() - began)


def many_keys(
    bootstrap: str, workdir: Path, *, items: int = 100_000, keys: int = 100_000
) -> FaultReport:
    """Fault: ``items`` reports over ``keys`` keys sent at full speed, against the same
    number over 10 keys, each on a worker of its own.

    Nothing may be lost, the many keys must be processed at least half as fast as the
    few, and the worker and its ingest processes must stay under 500 MiB.
    """
    few = Run("many-keys", isolated_settings(bootstrap, "fewkeys"), workdir, keys_feed(items, 10))
    many = Run(
        "many-keys", isolated_settings(bootstrap, "manykeys"), workdir, keys_feed(items, keys)
    )
    try:
        _, few_rate = _timed(few)
        few_report = few.finish()
        few.stop()
        worker, many_rate = _timed(many)
        rss = worker.rss_peak_mib() or 0.0
        active = total(worker.samples(), "watchfloor_active_keys")
        report = many.finish()
    finally:
        few.stop()
        many.stop()
    ratio = many_rate / few_rate
    report.figures.update(
        few_items_per_s=few_rate, many_items_per_s=many_rate, ratio=ratio, rss_mib=rss
    )
    report.notes.append(
        f"{items:,} reports over {keys:,} keys: {many_rate:,.0f} items/s, against "
        f"{few_rate:,.0f} over 10 keys (ratio {ratio:.2f}); {active:,.0f} keys held; worker "
        f"and ingest processes at most {rss:,.0f} MiB; alerts {report.alerts_got} of "
        f"{report.alerts_expected} ({few_report.alerts_got} of {few_report.alerts_expected} "
        "over 10 keys)"
    )
    if not few_report.ok:
        report.unexpected.append(
            f"the 10-key run lost records or alerts: missing {few_report.missing}, "
            f"unexpected {few_report.unexpected}"
        )
    if ratio < 0.5:
        report.unexpected.append(f"{keys:,} keys ran at {ratio:.2f} of the 10-key rate")
    if rss > 500:
        report.unexpected.append(f"the worker held {rss:,.0f} MiB")
    return report
