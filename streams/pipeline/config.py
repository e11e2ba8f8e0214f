"""Build the core's configuration objects from the service settings."""

from __future__ import annotations

from streams.detect.detector import SignificanceDetector
from streams.detect.engine import DetectConfig
from streams.detect.windows import WindowSpec
from streams.settings import Settings

__all__ = ["detect_config"]


def detect_config(settings: Settings) -> DetectConfig:
    return DetectConfig(
        window=WindowSpec(settings.window_size, settings.window_step, settings.window_grace),
        detector=SignificanceDetector(
            half_life=settings.detector_half_life,
            threshold=settings.detector_threshold,
            beta=settings.detector_beta,
            min_count=settings.detector_min_count,
            warmup=settings.detector_warmup,
        ),
        dedup_horizon=settings.dedup_horizon,
        idle_ttl=settings.idle_key_ttl,
        evidence_limit=settings.evidence_limit,
    )
