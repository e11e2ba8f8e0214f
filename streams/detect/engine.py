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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from streams.detect.detectors import Observation
from streams.detect.severity import severity
from streams.detect.state import KeyState, WindowAgg
from streams.detect.suite import DetectorSuite, Fired
from streams.detect.windows import WindowSpec
from streams.models import Alert, DetectorInfo, Evidence, SignalHit
from streams.signals.fingerprint import similarity

__all__ = ["Advanced", "DetectConfig", "Detection", "HitOutcome", "alert_id"]

# Reports remembered per key for near-duplicate checks, and outlets per report: bounds.
# A report is [fingerprint, event time, first item id, outlet hashes, window starts]:
# at most about 600 bytes, so 500 of them keep a key's entry well under Kafka's 1 MB.
STORY_CAP = 500
OUTLET_CAP = 32
# Item ids remembered per key for dedup, the latest delivered. An id may be 512 characters:
# uncapped, a few thousand distinct ids flooding one key made its entry larger than Kafka
# takes, and the failed changelog write crashed the worker on every retry. 500 of them are
# at most about 270 kB; a redelivery of an id forgotten this way is still caught as a copy
# while its report is among the stories.
SEEN_CAP = 500


class HitOutcome(enum.Enum):
    COUNTED = "counted"
    DUPLICATE = "duplicate"
    """The same item id again (a redelivery)."""
    SYNDICATED = "syndicated"
    """A copy of a report already counted, from another outlet, url or id."""
    LATE = "late"


@dataclass(frozen=True, slots=True)
class DetectConfig:
    window: WindowSpec
    suites: Mapping[str, DetectorSuite]
    """The detectors of each signal, by signal id."""
    default: DetectorSuite
    """For keys of signals the watchlist no longer names, until their state expires."""
    weights: Mapping[str, float] = field(default_factory=dict)
    """Each signal's weight (1 when absent): it scales alert strength for severity."""
    dedup_horizon: float = 7 * 86400.0
    near_duplicate_horizon: float = 86400.0
    """Seconds a counted report's fingerprint is remembered; 0: no near-duplicate check."""
    near_duplicate_similarity: float = 0.6
    idle_ttl: float = 30 * 86400.0
    evidence_limit: int = 20


@dataclass(slots=True)
class Advanced:
    alerts: list[Alert] = field(default_factory=list)
    suppressed: int = 0
    """Alert decisions that the re-alert rules held back."""


def alert_id(detector: str, key: str, start: float, end: float) -> str:
    """Stable id of the alert for one detector, key and window: replays reproduce it."""
    text = f"{detector}|{key}|{_iso(start)}|{_iso(end)}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Detection:
    def __init__(self, config: DetectConfig) -> None:
        self.config = config

    def suite(self, signal_id: str) -> DetectorSuite:
        return self.config.suites.get(signal_id, self.config.default)

    def new_state(self, hit: SignalHit) -> KeyState:
        return KeyState(
            key=hit.key,
            signal_id=hit.signal_id,
            region=hit.region,
            detectors=self.suite(hit.signal_id).initial(),
        )

    def add(self, state: KeyState, hit: SignalHit, watermark: float) -> HitOutcome:
        """Count one hit into every open window it belongs to."""
        ts = hit.published_at.timestamp()
        if hit.item_id in state.seen:
            return HitOutcome.DUPLICATE
        if self._is_copy(state, hit, ts):
            _remember(state, hit.item_id, ts)
            return HitOutcome.SYNDICATED
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
            "sentence": hit.sentence,
        }
        limit = self.config.evidence_limit
        for s in starts:
            state.windows.setdefault(s, WindowAgg()).add(
                hit.publisher, hit.importance, evidence, limit
            )
        _remember(state, hit.item_id, ts)
        state.last_event = max(state.last_event, ts)
        if hit.fingerprint is not None and self.config.near_duplicate_horizon > 0:
            outlet = _outlet(hit.publisher)
            state.stories.append([hit.fingerprint, ts, hit.item_id, [outlet], list(starts)])
            if len(state.stories) > STORY_CAP:
                del state.stories[0]
        return HitOutcome.COUNTED

    def _is_copy(self, state: KeyState, hit: SignalHit, ts: float) -> bool:
        """Whether ``hit`` copies a report counted within the horizon; if so, note its outlet.

        The copy adds its outlet to the report's evidence in every window still open, so
        an alert shows how many outlets carried each report; it adds nothing to counts.
        """
        horizon = self.config.near_duplicate_horizon
        if hit.fingerprint is None or horizon <= 0:
            return False
        for story in reversed(state.stories):
            fingerprint, at, first_id, outlets, counted_in = story
            if abs(ts - at) > horizon:
                continue
            if similarity(fingerprint, hit.fingerprint) < self.config.near_duplicate_similarity:
                continue
            outlet = _outlet(hit.publisher)
            if outlet not in outlets and len(outlets) < OUTLET_CAP:
                outlets.append(outlet)
            # The windows the report was counted in, not only those whose evidence shows it.
            for start in counted_in:
                window = state.windows.get(start)
                if window is None:
                    continue
                window.copies += 1
                for evidence in window.evidence:
                    if evidence["id"] == first_id:
                        evidence["outlets"] = len(outlets)
            return True
        return False

    def advance(
        self, state: KeyState, watermark: float, watchlist_version: str, now: datetime
    ) -> Advanced:
        """Close every window the watermark has passed, scoring each exactly once."""
        out = Advanced()
        if watermark <= state.watermark:
            return out
        state.watermark = watermark
        spec, suite = self.config.window, self.suite(state.signal_id)
        last = spec.last_closable(watermark)
        if state.closed_through is not None:
            cursor = state.closed_through + spec.step
        elif state.windows:
            cursor = min(state.windows)
        else:
            return out

        def emit(fired: list[Fired], window: WindowAgg | None) -> None:
            for f in fired:
                if f.permitted:
                    out.alerts.append(self._alert(state, f, window, watchlist_version, now))
                else:
                    out.suppressed += 1

        def silence(start: float, windows: int) -> None:
            # Longer than a key's state lives idle: start afresh, as if it had expired,
            # rather than step through (say) centuries after one mis-dated first item.
            if windows * spec.step > self.config.idle_ttl:
                state.detectors = suite.initial()
            else:
                emit(suite.skip(state.detectors, start, spec.step, windows), None)

        if cursor <= last:
            for start in sorted(s for s in state.windows if s <= last):
                silence(cursor, _steps(cursor, start, spec))
                window = state.windows.pop(start)
                obs = Observation(
                    start, spec.step, window.count, len(window.publishers), window.importance
                )
                emit(suite.close(state.detectors, obs), window)
                cursor = start + spec.step
            silence(cursor, _steps(cursor, last + spec.step, spec))
            state.closed_through = last
        horizon = watermark - self.config.dedup_horizon
        if state.seen and min(state.seen.values()) < horizon:
            state.seen = {i: t for i, t in state.seen.items() if t >= horizon}
        oldest = watermark - self.config.near_duplicate_horizon
        if state.stories and state.stories[0][1] < oldest:
            state.stories = [s for s in state.stories if s[1] >= oldest]
        return out

    def needs_advance(self, state: KeyState) -> bool:
        """Whether a watermark may change this key: open windows, or silence can alert."""
        return bool(state.windows) or (
            state.closed_through is not None
            and self.suite(state.signal_id).waits_on_silence(state.detectors)
        )

    def expired(self, state: KeyState) -> bool:
        """An idle key whose windows are all closed: its state may be dropped."""
        return not state.windows and state.watermark - state.last_event > self.config.idle_ttl

    def _alert(
        self,
        state: KeyState,
        fired: Fired,
        window: WindowAgg | None,
        watchlist_version: str,
        now: datetime,
    ) -> Alert:
        det, obs, decision = fired.detector, fired.obs, fired.decision
        start, end = obs.start, obs.start + self.config.window.size
        return Alert(
            alert_id=alert_id(det.label, state.key, start, end),
            signal_id=state.signal_id,
            key=state.key,
            region=state.region,
            window_start=_dt(start),
            window_end=_dt(end),
            count=obs.count,
            copies=0 if window is None else window.copies,
            baseline=round(max(decision.baseline, 0.0), 6),
            score=round(decision.score, 6),
            severity=severity(
                decision.strength * self.config.weights.get(state.signal_id, 1.0),
                obs.count,
                obs.publishers,
                obs.importance,
            ),
            publishers=obs.publishers,
            importance=obs.importance,
            detector=DetectorInfo(name=det.label, kind=det.kind, params=det.params),
            evidence=[]
            if window is None
            else [Evidence.model_validate(e) for e in window.evidence],
            generated_at=now,
            watchlist_version=watchlist_version,
        )


def _remember(state: KeyState, item_id: str, ts: float) -> None:
    """Note a new item id; past the cap the one delivered first is forgotten (dicts keep
    insertion order, and so does the entry's JSON)."""
    state.seen[item_id] = ts
    if len(state.seen) > SEEN_CAP:
        del state.seen[next(iter(state.seen))]


def _outlet(publisher: str | None) -> str:
    """A short stand-in for a publisher's name: only distinctness matters here."""
    return hashlib.sha256((publisher or "?").encode()).hexdigest()[:8]


def _steps(start: float, stop: float, spec: WindowSpec) -> int:
    """Whole window steps in ``[start, stop)``."""
    return max(0, round((stop - start) / spec.step))


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _iso(ts: float) -> str:
    return _dt(ts).isoformat().replace("+00:00", "Z")
