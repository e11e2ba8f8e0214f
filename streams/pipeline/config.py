"""Build the core's configuration objects from the service settings and the watchlist."""

from __future__ import annotations

from streams.detect.engine import DetectConfig
from streams.detect.suite import DetectorSuite
from streams.detect.windows import WindowSpec
from streams.settings import Settings
from streams.signals.watchlist import Watchlist

__all__ = ["detect_config"]


def detect_config(settings: Settings, watchlist: Watchlist) -> DetectConfig:
    size = settings.window_size
    return DetectConfig(
        window=WindowSpec(size, settings.window_step, settings.window_grace),
        suites={s.id: DetectorSuite(watchlist.detectors_of(s), size) for s in watchlist.signals},
        default=DetectorSuite(watchlist.detectors, size),
        weights={s.id: s.weight for s in watchlist.signals},
        dedup_horizon=settings.dedup_horizon,
        near_duplicate_horizon=settings.near_duplicate_horizon,
        near_duplicate_similarity=settings.near_duplicate_similarity,
        idle_ttl=settings.idle_key_ttl,
        evidence_limit=settings.evidence_limit,
    )
