"""Run a feed through exactly the worker's core logic in one process, without Kafka.

Used by tests to know which alerts the live pipeline must produce for a feed, and by
anyone who wants to try a watchlist or detector setting on a file before deploying it.
Records are processed one at a time, which is what the worker's per-item watermarks
reproduce whatever its batching.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from streams.detect.engine import Detection, HitOutcome
from streams.detect.processor import DetectProcessor, OpenKeys
from streams.models import Alert, WatermarkTick
from streams.pipeline.config import detect_config
from streams.settings import Settings
from streams.signals.hits import item_hits
from streams.signals.matcher import Matcher
from streams.signals.watchlist import load_watchlist
from streams.sources.decode import Rejection, decode_item

__all__ = ["OfflineRun", "run_offline"]


@dataclass
class OfflineRun:
    received: int = 0
    ingested: int = 0
    deadlettered: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[HitOutcome] = field(default_factory=Counter)
    alerts: list[Alert] = field(default_factory=list)
    suppressed: int = 0


def run_offline(values: Iterable[bytes], settings: Settings) -> OfflineRun:
    watchlist = load_watchlist(settings.watchlist)
    matcher = Matcher(watchlist)
    processor = DetectProcessor(
        Detection(detect_config(settings, watchlist)), {}, OpenKeys(lambda _key: 0), matcher.version
    )
    run = OfflineRun()
    watermark = float("-inf")
    now = datetime.now(UTC)
    for value in values:
        run.received += 1
        item = decode_item(value)
        if isinstance(item, Rejection):
            run.deadlettered[item.reason] += 1
            continue
        run.ingested += 1
        watermark = max(watermark, item.published_at.timestamp())
        records: list = [(0, h) for h in item_hits(matcher, item, 0.0, watermark)]
        records.append((0, WatermarkTick(watermark=datetime.fromtimestamp(watermark, UTC))))
        result = processor.process(records, now)
        processor.commit(result)
        run.outcomes.update(outcome for _, outcome in result.outcomes)
        run.alerts += result.alerts
        run.suppressed += result.suppressed
    return run
