"""Run a feed through exactly the worker's core logic in one process, without Kafka.

Used by tests to know which alerts the live pipeline must produce for a feed, and by
anyone who wants to try a watchlist or detector setting on a file before deploying it.
Records are processed one at a time, which is what the worker's per-item watermarks
reproduce whatever its batching.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from streams.detect.engine import Detection, HitOutcome
from streams.detect.key_cap import KeyCap
from streams.detect.processor import BatchResult, DetectProcessor, OpenKeys
from streams.models import Alert, SignalHit, WatermarkTick
from streams.pipeline.config import detect_config, ingest_processor
from streams.progress import Progress
from streams.settings import Settings
from streams.signals.matcher import Matcher
from streams.signals.watchlist import Watchlist, load_watchlist

__all__ = ["OfflineRun", "run_offline"]


@dataclass
class OfflineRun:
    received: int = 0
    ingested: int = 0
    deadlettered: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[HitOutcome] = field(default_factory=Counter)
    alerts: list[Alert] = field(default_factory=list)
    suppressed: int = 0
    merged: int = 0
    """Crossings merged into an open burst."""
    revised: int = 0
    """Windows judged again after late reports."""
    step: float = 3600.0
    """Seconds per row of ``key_windows``: the count bucket."""
    key_windows: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Per key: the start of its first counted bucket and of the last bucket judged."""
    counts: Counter[tuple[str, float]] = field(default_factory=Counter)
    """Hits counted per key and bucket start (what ``key_windows`` rows hold)."""


def run_offline(
    values: Iterable[bytes],
    settings: Settings,
    *,
    progress: Progress | None = None,
    flush: bool = False,
    watchlist: Watchlist | None = None,
) -> OfflineRun:
    """Every value through decode, match and detection, one record at a time.

    With ``flush`` the windows still open at the end are closed as if time ran on past
    their grace; the worker would instead wait for more input. ``watchlist`` replaces the
    one the settings name.
    """
    watchlist = watchlist or load_watchlist(settings.watchlist)
    matcher = Matcher(watchlist)
    config = detect_config(settings, watchlist)
    processor = DetectProcessor(
        Detection(config),
        {},
        OpenKeys(lambda _key: 0),
        matcher.version,
        max_bytes=settings.state_max_bytes,
        key_cap=KeyCap(settings.max_keys_per_signal, 1, lambda _key: 0),
    )
    ingest = ingest_processor(settings, matcher)
    first: dict[str, float] = {}
    run = OfflineRun()
    now = datetime.now(UTC)
    for value in values:
        run.received += 1
        if progress is not None and run.received % 1000 == 0:
            progress.update(run.received)
        # Offline there is no broker timestamp: the record is received now.
        done = ingest.process([(0, value, time.time())])
        for _, rejection in done.rejected:
            run.deadlettered[rejection.reason] += 1
        run.ingested += done.items
        records: list[tuple[int, SignalHit | WatermarkTick]] = [(0, h) for h in done.hits]
        records += [(0, tick) for tick in done.ticks]
        if records:
            batch = processor.process(records, now)
            _apply(run, processor, batch, first, config.default.bucket)
    step = config.default.bucket
    watermark = ingest.mark()
    if flush and watermark > float("-inf"):
        # Far enough for every window of every scale that holds a report to be judged.
        longest = max(
            sc.size for plan in (config.default, *config.plans.values()) for sc in plan.scales
        )
        watermark = max(watermark, ingest.latest) + longest + settings.window_grace
        tick = WatermarkTick(watermark=datetime.fromtimestamp(watermark, UTC))
        _apply(run, processor, processor.process([(0, tick)], now), first, step)
    if progress is not None:
        progress.update(run.received, force=True)
    run.step = step
    if watermark == float("-inf"):
        return run  # nothing was ingested: no windows
    # Rows of the backtest: buckets from a key's first report to the last one judged.
    last = math.floor((watermark - settings.window_grace) / step) * step - step
    run.key_windows = {key: (start, last) for key, start in first.items() if start <= last}
    return run


def _apply(
    run: OfflineRun,
    processor: DetectProcessor,
    result: BatchResult,
    first: dict[str, float],
    step: float,
) -> None:
    processor.commit(result)
    for hit, outcome in result.outcomes:
        run.outcomes[outcome] += 1
        if outcome is HitOutcome.COUNTED:
            start = math.floor(hit.published_at.timestamp() / step) * step
            first[hit.key] = min(first.get(hit.key, start), start)
            run.counts[hit.key, start] += 1
    run.alerts += result.alerts
    run.suppressed += result.suppressed
    run.merged += result.merged
    run.revised += result.revised
