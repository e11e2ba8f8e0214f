"""Build the core's configuration objects from the service settings and the watchlist."""

from __future__ import annotations

from collections.abc import Sequence

from streams.detect.detectors import DetectorBase
from streams.detect.engine import DetectConfig, SignalPlan
from streams.detect.scales import ScaleSpec, scales_from
from streams.detect.suite import DetectorSuite
from streams.settings import Settings
from streams.signals.ingest import IngestProcessor
from streams.signals.matcher import Matcher
from streams.signals.watchlist import Watchlist

__all__ = ["detect_config", "ingest_processor"]


def ingest_processor(settings: Settings, matcher: Matcher) -> IngestProcessor:
    """The ingest core as the settings want it, for the worker and the offline runner."""
    return IngestProcessor(
        matcher,
        outlets=settings.watermark_outlets,
        max_ahead=settings.max_event_ahead,
        fingerprints=settings.near_duplicate_horizon > 0,
    )


def detect_config(settings: Settings, watchlist: Watchlist) -> DetectConfig:
    def plan(
        detectors: Sequence[DetectorBase], specs: Sequence[ScaleSpec], weight: float = 1.0
    ) -> SignalPlan:
        scales = scales_from(specs, settings.window_grace)
        return SignalPlan.of(
            DetectorSuite(detectors, scales[0].size),
            scales,
            weight=weight,
            burst_quiet=watchlist.burst_quiet,
        )

    return DetectConfig(
        plans={
            s.id: plan(watchlist.detectors_of(s), watchlist.scales_of(s), s.weight)
            for s in watchlist.signals
        },
        default=plan(watchlist.detectors, watchlist.scales),
        dedup_horizon=settings.dedup_horizon,
        near_duplicate_horizon=settings.near_duplicate_horizon,
        near_duplicate_similarity=settings.near_duplicate_similarity,
        idle_ttl=settings.idle_key_ttl,
        evidence_limit=settings.evidence_limit,
    )
