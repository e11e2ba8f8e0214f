"""Count signal hits into event-time windows per key and turn closed windows into alerts.

This is the whole of detection, free of Kafka: the detect agent and the offline replay in
the tests call exactly these functions, so both give the same alerts for the same feed.

Time is event time. The watermark is the highest ``published_at`` seen so far (Kafka
Streams calls it stream time). A window closes, and is scored once, when the watermark
passes its end plus the grace period; hits for a closed window are late.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from streams.detect.detector import SignificanceDetector
from streams.detect.state import KeyState, WindowAgg
from streams.detect.windows import WindowSpec
from streams.models import Alert, DetectorInfo, Evidence, SignalHit

__all__ = ["DetectConfig", "Detection", "HitOutcome", "alert_id"]


class HitOutcome(enum.Enum):
    COUNTED = "counted"
    DUPLICATE = "duplicate"
    LATE = "late"


@dataclass(frozen=True, slots=True)
class DetectConfig:
    window: WindowSpec
    detector: SignificanceDetector
    dedup_horizon: float = 7 * 86400.0
    idle_ttl: float = 30 * 86400.0
    evidence_limit: int = 20


def alert_id(detector: str, key: str, start: float, end: float) -> str:
    """Stable id of the alert for one detector, key and window: replays reproduce it."""
    text = f"{detector}|{key}|{_iso(start)}|{_iso(end)}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Detection:
    def __init__(self, config: DetectConfig) -> None:
        self.config = config

    def new_state(self, hit: SignalHit) -> KeyState:
        return KeyState(
            key=hit.key,
            signal_id=hit.signal_id,
            region=hit.region,
            detector=self.config.detector.initial(),
        )

    def add(self, state: KeyState, hit: SignalHit, watermark: float) -> HitOutcome:
        """Count one hit into every open window it belongs to."""
        ts = hit.published_at.timestamp()
        if hit.item_id in state.seen:
            return HitOutcome.DUPLICATE
        spec = self.config.window
        watermark = max(watermark, state.watermark)
        starts = [
            s
            for s in spec.starts(ts)
            if spec.closes_at(s) > watermark
            and (state.closed_through is None or s > state.closed_through)
        ]
        if not starts:
            return HitOutcome.LATE
        evidence = {
            "id": hit.item_id,
            "title": hit.title,
            "url": hit.url,
            "source": hit.publisher,
            "published_at": _iso(ts),
            "matched_terms": hit.matched_terms,
        }
        limit = self.config.evidence_limit
        for s in starts:
            state.windows.setdefault(s, WindowAgg()).add(hit.publisher, evidence, limit)
        state.seen[hit.item_id] = ts
        state.last_event = max(state.last_event, ts)
        return HitOutcome.COUNTED

    def advance(
        self, state: KeyState, watermark: float, watchlist_version: str, now: datetime
    ) -> list[Alert]:
        """Close every window the watermark has passed, scoring each exactly once."""
        if watermark <= state.watermark:
            return []
        state.watermark = watermark
        spec, detector = self.config.window, self.config.detector
        last = spec.last_closable(watermark)
        if state.closed_through is not None:
            cursor = state.closed_through + spec.step
        elif state.windows:
            cursor = min(state.windows)
        else:
            return []
        alerts: list[Alert] = []
        if cursor <= last:
            for start in sorted(s for s in state.windows if s <= last):
                detector.observe_empty(state.detector, _steps(cursor, start, spec.step))
                window = state.windows.pop(start)
                decision = detector.observe(state.detector, window.count)
                if decision.alert:
                    alerts.append(
                        self._alert(
                            state,
                            start,
                            window,
                            decision.score,
                            decision.baseline,
                            watchlist_version,
                            now,
                        )
                    )
                cursor = start + spec.step
            detector.observe_empty(state.detector, _steps(cursor, last + spec.step, spec.step))
            state.closed_through = last
        horizon = watermark - self.config.dedup_horizon
        if state.seen and min(state.seen.values()) < horizon:
            state.seen = {i: t for i, t in state.seen.items() if t >= horizon}
        return alerts

    def expired(self, state: KeyState) -> bool:
        """An idle key whose windows are all closed: its state may be dropped."""
        return not state.windows and state.watermark - state.last_event > self.config.idle_ttl

    def _alert(
        self,
        state: KeyState,
        start: float,
        window: WindowAgg,
        score: float,
        baseline: float,
        watchlist_version: str,
        now: datetime,
    ) -> Alert:
        detector = self.config.detector
        end = start + self.config.window.size
        critical = score >= 2 * detector.threshold and window.count >= 2 * detector.min_count
        return Alert(
            alert_id=alert_id(detector.name, state.key, start, end),
            signal_id=state.signal_id,
            key=state.key,
            region=state.region,
            window_start=_dt(start),
            window_end=_dt(end),
            count=window.count,
            baseline=round(baseline, 6),
            score=round(score, 6),
            severity="critical" if critical else "warning",
            publishers=len(window.publishers),
            detector=DetectorInfo(name=detector.name, params=detector.params),
            evidence=[Evidence.model_validate(e) for e in window.evidence],
            generated_at=now,
            watchlist_version=watchlist_version,
        )


def _steps(start: float, stop: float, step: float) -> int:
    """Whole windows in ``[start, stop)``."""
    return max(0, round((stop - start) / step))


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _iso(ts: float) -> str:
    return _dt(ts).isoformat().replace("+00:00", "Z")
