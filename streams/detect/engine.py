"""Count signal hits per key and judge them at several time scales; turn crossings into alerts.

This is the whole of detection, free of Kafka: the detect agent and the offline runner
call exactly these functions, so both give the same alerts for the same feed.

Time is event time. The watermark is the event time of the key's signals partition
(``streams.detect.clock``). Hits are counted once, into the key's bucket; every time scale
of the signal (``streams.detect.scales``) reads its windows from the buckets. A window is
judged when the watermark passes its end plus grace, judged again when a late report
revises it, and learned into its detectors' baselines when it is final. Crossings of all
scales go through the key's burst (``streams.detect.bursts``): one burst, one alert, then
updates.

Per key the order of work is fixed (``apply``): ``advance`` to the hit's watermark, ``add``
the hit, then judge ``early`` the open windows it joined. So a key sees the same sequence
whatever the batching, and a replay gives the alerts the live run gave.
"""

from __future__ import annotations

import enum
import hashlib
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from streams.detect.bursts import Crossing, ends_before, step
from streams.detect.detectors import Observation
from streams.detect.scales import Scale, bucket_of
from streams.detect.severity import Severity, severity
from streams.detect.state import Bucket, KeyState, Mark, ScaleState, Story
from streams.detect.suite import DetectorSuite, Judged, Learned
from streams.fingerprint import similarity
from streams.models import Alert, DetectorInfo, Evidence, ReportRef, SignalHit

__all__ = [
    "Advanced",
    "DetectConfig",
    "Detection",
    "HitOutcome",
    "SignalPlan",
    "burst_id",
    "update_id",
]

# Reports remembered per key for near-duplicate checks, and outlets per report: bounds.
# A report is [fingerprint, event time, first item id, outlet hashes, bucket start]:
# at most about 600 bytes, so 500 of them keep a key's entry well under Kafka's 1 MB.
STORY_CAP = 500
OUTLET_CAP = 32
# Item ids remembered per key for dedup, the latest delivered. An id may be 512 characters:
# uncapped, a few thousand distinct ids flooding one key made its entry larger than Kafka
# takes, and the failed changelog write crashed the worker on every retry. 500 of them are
# at most about 270 kB; a redelivery of an id forgotten this way is still caught as a copy
# while its report is among the stories.
SEEN_CAP = 500
# Severities in order, for a crossing that rises while its window is open.
_RANK = {"info": 0, "warning": 1, "critical": 2}


class HitOutcome(enum.Enum):
    COUNTED = "counted"
    DUPLICATE = "duplicate"
    """The same item id again (a redelivery)."""
    SYNDICATED = "syndicated"
    """A copy of a report already counted, from another outlet, url or id."""
    LATE = "late"
    """Every window of every scale that holds the hit is final."""


@dataclass(frozen=True, slots=True)
class SignalPlan:
    """How one signal's keys are judged: detectors, time scales and burst rule."""

    suite: DetectorSuite
    """Every detector of the signal."""
    scales: tuple[Scale, ...]
    """Each judged by at least one detector (``DetectorBase.judges_scale``)."""
    bucket: float
    """Seconds per count bucket: the gcd of every scale's size and step."""
    weight: float = 1.0
    """Scales alert strength for severity."""
    burst_quiet: float = 6 * 3600.0
    """A burst ends once none of its windows crossed for this many seconds."""
    on_learned: frozenset[str] = field(init=False, default=frozenset())
    """Names of the scales whose windows are judged on the learned state: every detector
    judges so with up to lateness plus two steps of windows before one not yet learned
    (``Detection._advance_learned``, ``Detection.early``)."""

    lateness: float = field(init=False, default=0.0)
    """The longest lateness of the scales."""
    suites: Mapping[str, DetectorSuite] = field(init=False, default_factory=dict)
    """By scale name: the detectors that judge it."""

    @classmethod
    def of(
        cls,
        suite: DetectorSuite,
        scales: tuple[Scale, ...],
        weight: float = 1.0,
        burst_quiet: float = 6 * 3600.0,
    ) -> SignalPlan:
        """The plan of ``suite`` at ``scales``: those that no detector judges left out, the
        count bucket fitted to the rest."""
        names = {sc.name for sc in scales}
        for det in suite.detectors:
            if unknown := set(det.scales or ()) - names:
                raise ValueError(
                    f"detector {det.label} names scales {sorted(unknown)}; "
                    f"its signal has {sorted(names)}"
                )
        shortest = scales[0].name
        kept = tuple(
            sc for sc in scales if any(d.judges_scale(sc.name, shortest) for d in suite.detectors)
        )
        return cls(suite, kept, bucket_of(kept), weight, burst_quiet)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lateness", max((sc.lateness for sc in self.scales), default=0.0))
        shortest = self.scales[0].name if self.scales else ""
        suites = {}
        for sc in self.scales:
            dets = [d for d in self.suite.detectors if d.judges_scale(sc.name, shortest)]
            whole = len(dets) == len(self.suite.detectors)
            suites[sc.name] = self.suite if whole else DetectorSuite(dets, sc.size)
        object.__setattr__(self, "suites", suites)
        names = frozenset(
            sc.name
            for sc in self.scales
            if suites[sc.name].judges_on_learned(sc.step, sc.lateness + 2 * sc.step)
        )
        object.__setattr__(self, "on_learned", names)


@dataclass(frozen=True, slots=True)
class DetectConfig:
    plans: Mapping[str, SignalPlan]
    """By signal id."""
    default: SignalPlan
    """For keys of signals the watchlist no longer names, until their state expires."""
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
    """Crossings that would have opened a burst but the re-alert rules held back."""
    merged: int = 0
    """Crossings merged into an open burst without an alert of their own."""
    revised: int = 0
    """Judged windows judged again because late reports revised them."""

    def take(self, other: Advanced) -> None:
        self.alerts += other.alerts
        self.suppressed += other.suppressed
        self.merged += other.merged
        self.revised += other.revised


@dataclass(frozen=True, slots=True)
class _Found:
    scale: Scale
    judged: Judged
    late_by: float
    early: bool = False


def burst_id(key: str, opened: float, quiet: float) -> str:
    """Stable id of a key's burst: from the key and the period of ``quiet`` seconds (the
    burst rule's, epoch-aligned) in which the window that opened it ended. Not the scale,
    the window or the hour: when late reports arrive, a burst can open at another scale or
    an hour later than in publication order. Two bursts of a key open at least ``quiet``
    apart, so they rarely share a period."""
    period = math.floor(opened / quiet) * quiet if quiet > 0 else opened
    text = f"{key}|{_iso(period)}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def update_id(burst_id: str, update: str, what: str) -> str:
    """Stable id of one alert of a burst: the scale it crossed at first, the severity it
    rose to, or the reminder's number. Not the window: which window of a scale
    crosses first can depend on when late reports arrive, what the burst did does not."""
    return hashlib.sha256(f"{burst_id}|{update}|{what}".encode()).hexdigest()[:32]


class Detection:
    def __init__(self, config: DetectConfig) -> None:
        self.config = config

    def plan(self, signal_id: str) -> SignalPlan:
        return self.config.plans.get(signal_id, self.config.default)

    def new_state(self, hit: SignalHit) -> KeyState:
        return KeyState(key=hit.key, signal_id=hit.signal_id, region=hit.region)

    def apply(
        self, state: KeyState, hit: SignalHit, watermark: float, version: str, now: datetime
    ) -> tuple[HitOutcome, Advanced]:
        """One hit, in the fixed order: ``advance`` the key to the hit's watermark, ``add``
        the hit, then, if it counted, judge ``early``."""
        out = self.advance(state, watermark, version, now)
        outcome = self.add(state, hit, watermark)
        if outcome is HitOutcome.COUNTED:
            out.take(self.early(state, hit, version, now))
        return outcome, out

    def add(self, state: KeyState, hit: SignalHit, watermark: float) -> HitOutcome:
        """Count one hit into its bucket; ``state`` has been advanced to ``watermark``."""
        ts = hit.published_at.timestamp()
        if hit.item_id in state.seen:
            return HitOutcome.DUPLICATE
        if self._is_copy(state, hit, ts):
            _remember(state, hit.item_id, ts)
            return HitOutcome.SYNDICATED
        plan = self.plan(state.signal_id)
        watermark = max(watermark, state.watermark)
        accepting = [
            sc
            for sc in plan.scales
            if sc.accepts(ts, watermark)
            and ((st := state.scales.get(sc.name)) is None or sc.newest_start(ts) > st.final)
        ]
        if not accepting:
            return HitOutcome.LATE
        evidence = {
            "id": hit.item_id,
            "title": hit.title,
            "url": hit.url,
            "source": hit.publisher,
            "published_at": _iso(ts),
            "matched_terms": hit.matched_terms,
            "sentence": hit.sentence,
            "outlets": 1,
        }
        start = math.floor(ts / plan.bucket) * plan.bucket
        if plan.on_learned:
            self._learn_final(state, plan, watermark, ts)
        state.due = state.wake = None  # a new bucket or a revision: the next advance looks
        bucket = state.buckets.setdefault(start, Bucket())
        bucket.add(hit.publisher, hit.importance, evidence, self.config.evidence_limit)
        for sc in accepting:
            st = state.scales.get(sc.name)
            if st is None:
                continue
            # Windows final by the watermark are never revised, learned or not.
            first = max(sc.oldest_start(ts), max(st.final, sc.last_final(watermark)) + sc.step)
            if first <= st.judged:  # a window already judged holds the hit: revise it
                st.dirty = first if st.dirty is None else min(st.dirty, first)
        _remember(state, hit.item_id, ts)
        state.last_event = max(state.last_event, ts)
        if hit.fingerprint is not None and self.config.near_duplicate_horizon > 0:
            outlet = _outlet(hit.publisher)
            state.stories.append(Story(hit.fingerprint, ts, hit.item_id, [outlet], start))
            if len(state.stories) > STORY_CAP:
                del state.stories[0]
        return HitOutcome.COUNTED

    def early(self, state: KeyState, hit: SignalHit, version: str, now: datetime) -> Advanced:
        """After ``add`` counted ``hit``: revise what it revised, then peek at the open
        window of each early scale that holds it, and alert if the reports counted so far
        already cross (``DetectorSuite.peek``).

        Only the next window each scale will judge is peeked at: the provisional state has
        seen every window before it, as when it closes. Its alert is the one its closing
        would give, with the same ids; the closing then finds the crossing known."""
        out = Advanced()
        if any(st.dirty is not None for st in state.scales.values()):
            out = self.advance(state, state.watermark, version, now)
        plan = self.plan(state.signal_id)
        ts = hit.published_at.timestamp()
        found: list[_Found] = []
        for sc in plan.scales:
            if not sc.early:
                continue
            st = state.scales.get(sc.name)
            pending: int | None = None
            if st is not None:
                start, detectors = st.judged + sc.step, st.detectors
                if sc.name in plan.on_learned:
                    pending = round((start - st.final) / sc.step) - 1
                elif not plan.suites[sc.name].has_provisional(detectors):
                    continue  # its provisional state is rebuilt at the next advance
            else:
                # A new key: its first window will be judged on fresh detectors. Its
                # crossing is not recorded; judged again at the close, it merges.
                start, detectors = sc.oldest_start(min(state.buckets)), {}
            if not start <= ts < start + sc.size:
                continue
            obs = self._window_at(state, plan, sc, start)
            if obs is None:
                continue
            # An open window's count can still grow: a crossing already sent goes on to
            # the burst again when its severity rises (an escalation).
            found += [
                _Found(sc, j, 0.0, early=True)
                for j in plan.suites[sc.name].peek(detectors, obs, pending)
                if st is None or self._new_crossing(st, j, self._level(state, plan, sc, j))
            ]
        found.sort(key=lambda f: f.scale.size)
        for f in found:
            self._burst(state, plan, f, out, version, now)
        return out

    def _is_copy(self, state: KeyState, hit: SignalHit, ts: float) -> bool:
        """Whether ``hit`` copies a report counted within the horizon; if so, note its outlet.

        The copy adds its outlet to the report's evidence while its bucket is kept, so an
        alert shows how many outlets carried each report; it adds nothing to counts.
        """
        horizon = self.config.near_duplicate_horizon
        if hit.fingerprint is None or horizon <= 0:
            return False
        for story in reversed(state.stories):
            if abs(ts - story.at) > horizon:
                continue
            similar = similarity(story.fingerprint, hit.fingerprint)
            if similar < self.config.near_duplicate_similarity:
                continue
            outlets = story.outlets
            outlet = _outlet(hit.publisher)
            if outlet not in outlets and len(outlets) < OUTLET_CAP:
                outlets.append(outlet)
            bucket = state.buckets.get(story.bucket)
            if bucket is not None:
                bucket.copies += 1
                for evidence in bucket.evidence:
                    if evidence["id"] == story.first_id:
                        evidence["outlets"] = len(outlets)
            return True
        return False

    def advance(
        self, state: KeyState, watermark: float, watchlist_version: str, now: datetime
    ) -> Advanced:
        """Judge revised windows, judge the windows the watermark closed, learn final ones."""
        out = Advanced()
        if state.due is not None and watermark < state.due:
            state.watermark = max(state.watermark, watermark)
            return out
        moved = watermark > state.watermark
        if not moved and not any(st.dirty is not None for st in state.scales.values()):
            return out
        state.watermark = max(state.watermark, watermark)
        plan = self.plan(state.signal_id)
        found: list[_Found] = []
        # Due: the least watermark at which a window of some scale is judged. Windows are
        # made final at these moments too: provisional judging learns what it stored, and
        # ``add`` has scales that learn from their buckets learn first (``_learn_final``).
        # Wake: the least such watermark where a window judged then may cross. Judging the
        # others, and learning, wait for it (or for new reports): judged later in one go,
        # they give what judging them one by one gives.
        due, wake, finals_moved = math.inf, math.inf, False
        for sc in plan.scales:
            st = state.scales.get(sc.name)
            if st is None:
                # Judging starts with the window that holds the key's first bucket, once
                # the watermark judges it: reports before it may still come until then.
                first = sc.oldest_start(min(state.buckets)) if state.buckets else math.inf
                if sc.last_judged(state.watermark) < first:
                    judged_at = first + sc.size + sc.grace
                    due = min(due, judged_at)
                    if self._may_cross(state, plan, sc, first):
                        wake = min(wake, judged_at)
                    continue
                st = state.scales[sc.name] = ScaleState(first - sc.step, first - sc.step)
            final = st.final
            if sc.name in plan.on_learned:
                found += self._advance_learned(state, plan, sc, st, out)
            else:
                found += self._advance_scale(state, plan, sc, st, out)
            finals_moved = finals_moved or st.final != final
            judged_at = st.judged + sc.step + sc.size + sc.grace
            due = min(due, judged_at)
            if self._may_cross(state, plan, sc, st.judged + sc.step):
                wake = min(wake, judged_at)
        if found:
            found.sort(key=lambda f: (f.judged.obs.start + f.scale.size, f.scale.size))
            for f in found:
                self._burst(state, plan, f, out, watchlist_version, now)
        if finals_moved:
            self._forget(state, plan)  # what the windows made final no longer need
        state.due = due
        if state.buckets:
            # Every window holding a bucket final: the buckets are dropped.
            newest = max(state.buckets)
            wake = min(wake, max(newest + sc.size + sc.lateness for sc in plan.scales))
        else:
            wake = min(wake, state.last_event + self.config.idle_ttl)
        state.wake = max(wake, due)
        return out

    @staticmethod
    def _may_cross(state: KeyState, plan: SignalPlan, sc: Scale, after: float) -> bool:
        """Whether a window of ``sc`` starting at ``after`` or later may cross: whether
        the buckets it can hold have as many reports as the scale's detectors need."""
        least = plan.suites[sc.name].least_count
        if least <= 0:
            return True
        total = 0
        for start, bucket in state.buckets.items():
            if start >= after:
                total += bucket.count
                if total >= least:
                    return True
        return False

    def _advance_learned(
        self, state: KeyState, plan: SignalPlan, sc: Scale, st: ScaleState, out: Advanced
    ) -> list[_Found]:
        """``_advance_scale`` for detectors that judge on what they learned: no provisional
        state to keep or rebuild; a revision judges its windows again, and only them."""
        mark = state.watermark
        last, final = sc.last_judged(mark), sc.last_final(mark)
        if st.dirty is None and last <= st.judged and final <= st.final:
            return []
        found: list[_Found] = []
        learned = self._learned(plan, sc, st)
        if st.dirty is None and last == st.judged + sc.step and st.final < final < last:
            # The usual step, written out: learn the window made final, then judge the
            # window closed, on it and every earlier one of its slot.
            self._learn(state, plan, sc, st, final, learned)
            st.judged = last
            obs = st.read[last] = self._window_at(state, plan, sc, last)
            if obs is not None and obs.count >= plan.suites[sc.name].least_count:
                pending = round((last - final) / sc.step) - 1
                for judged in learned.judge(obs, pending):
                    if self._new_crossing(st, judged):
                        found.append(_Found(sc, judged, 0.0))
            return found
        if st.dirty is not None:
            dirty, st.dirty = st.dirty, None
            for judged in self._judge_learned(state, plan, sc, st, learned, dirty, st.judged):
                late_by = mark - (judged.obs.start + sc.size + sc.grace)
                found.append(_Found(sc, judged, max(late_by, 0.0)))
            out.revised += 1
        if last > st.judged:
            lo, st.judged = st.judged + sc.step, last
            crossings = self._judge_learned(state, plan, sc, st, learned, lo, last)
            found += [_Found(sc, j, 0.0) for j in crossings]
        final = min(final, st.judged)
        if final > st.final:
            self._learn(state, plan, sc, st, final, learned)
        return found

    @staticmethod
    def _learned(plan: SignalPlan, sc: Scale, st: ScaleState) -> Learned:
        """The scale's learned states, checked once per key in memory and watchlist."""
        bound, suite = st.bound, plan.suites[sc.name]
        if bound is None or bound.suite is not suite:
            # What the provisional way of judging kept, before the watchlist changed.
            st.judged_as.clear()
            suite.drop_provisional(st.detectors)
            bound = st.bound = suite.learned(st.detectors)
        return bound

    def _learn_final(self, state: KeyState, plan: SignalPlan, watermark: float, ts: float) -> None:
        """Before a report at ``ts`` lands in its bucket: scales that learn windows from
        their buckets learn those final by ``watermark`` (due only at the next judging), so
        a report too late for them, but counted for a longer scale, is not learned by
        them; and forget what they read of the windows it lands in."""
        for sc in plan.scales:
            st = state.scales.get(sc.name)
            if st is not None and sc.name in plan.on_learned:
                final = min(sc.last_final(watermark), st.judged)
                if final > st.final:
                    self._learn(state, plan, sc, st, final)
                if st.read:
                    lo, hi = sc.oldest_start(ts), sc.newest_start(ts)
                    for start in [s for s in st.read if lo <= s <= hi]:
                        del st.read[start]

    def _judge_learned(
        self,
        state: KeyState,
        plan: SignalPlan,
        sc: Scale,
        st: ScaleState,
        learned: Learned,
        lo: float,
        hi: float,
    ) -> Iterator[Judged]:
        """New crossings of the windows with items starting in ``[lo, hi]``, each judged on
        the learned state once every final window before it is learned: windows of its
        slot a period earlier are. Empty windows never alert here."""
        last_final = sc.last_final(state.watermark)
        least = plan.suites[sc.name].least_count
        windows: Iterator[tuple[float, Observation | None, int]]
        if lo == hi:  # the usual step: one window, kept to be learned when final
            obs = st.read[lo] = self._window_at(state, plan, sc, lo)
            windows = iter(((lo, obs, 0),))
        else:
            windows = self._windows(state, plan, sc, lo, hi)
        for start, obs, _ in windows:
            if obs is None or obs.count < least:
                continue
            upto = min(last_final, start - sc.step)
            if upto > st.final:
                self._learn(state, plan, sc, st, upto, learned)
            pending = round((start - st.final) / sc.step) - 1
            for judged in learned.judge(obs, pending):
                if self._new_crossing(st, judged):
                    yield judged

    def _learn(
        self,
        state: KeyState,
        plan: SignalPlan,
        sc: Scale,
        st: ScaleState,
        upto: float,
        learned: Learned | None = None,
    ) -> None:
        """Learn the windows after ``st.final`` up to the one starting at ``upto``, final
        now, on their buckets."""
        lo = st.final + sc.step
        learned = learned or self._learned(plan, sc, st)
        if lo == upto:  # the usual step: one window, most often read when it was judged
            obs = st.read.pop(lo) if lo in st.read else self._window_at(state, plan, sc, lo)
            if obs is None:
                learned.learn_empty(lo, sc.step, 1)
            else:
                learned.learn(obs)
            _made_final(st, upto)
            return
        self._learn_windows(learned, sc, st, self._windows(state, plan, sc, lo, upto), upto)
        st.read.clear()

    def _learn_windows(
        self,
        learned: Learned,
        sc: Scale,
        st: ScaleState,
        windows: Iterable[tuple[float, Observation | None, int]],
        final: float,
    ) -> None:
        """Fold windows, now final, into the learned states: each with items, each run of
        empty ones (a run longer than a key lives idle: start afresh)."""
        for start, obs, empty in windows:
            if obs is not None:
                learned.learn(obs)
            elif empty * sc.step > self.config.idle_ttl:
                learned.reset()
            else:
                learned.learn_empty(start, sc.step, empty)
        _made_final(st, final)

    def _advance_scale(
        self, state: KeyState, plan: SignalPlan, sc: Scale, st: ScaleState, out: Advanced
    ) -> list[_Found]:
        suite, mark = plan.suites[sc.name], state.watermark
        found: list[_Found] = []
        if not suite.has_provisional(st.detectors):
            # Judged on the learned state until the watchlist changed: rebuild the
            # provisional state and judge the windows not yet final again.
            st.dirty = st.final + sc.step if st.dirty is None else min(st.dirty, st.final + sc.step)
        last = sc.last_judged(mark)
        if st.dirty is None and last <= st.judged and sc.last_final(mark) <= st.final:
            return found
        if st.dirty is not None:
            dirty, st.dirty = st.dirty, None
            # The provisional state is the final one plus every judged window: rebuild it,
            # replay the windows before the revised one as they were judged, and judge the
            # revised window and those after it again on their buckets.
            suite.rebuild(st.detectors)
            for start, obs, empty in _stored(st, sc, st.final + sc.step, dirty - sc.step):
                if obs is not None:
                    suite.judge(st.detectors, obs)
                else:
                    self._judge_empty(plan, sc, st, start, empty)
            for judged in self._judge(state, plan, sc, st, dirty, st.judged):
                if self._new_crossing(st, judged):
                    late_by = mark - (judged.obs.start + sc.size + sc.grace)
                    found.append(_Found(sc, judged, max(late_by, 0.0)))
            out.revised += 1
        if last == st.judged + sc.step:  # the usual step: one new window
            obs = self._window_at(state, plan, sc, last)
            if obs is None:
                decided = suite.judge_empty(st.detectors, last, sc.step, 1)
            else:
                st.judged_as[last] = obs
                decided = suite.judge(st.detectors, obs)
            found += [_Found(sc, j, 0.0) for j in decided if self._new_crossing(st, j)]
            st.judged = last
        elif last > st.judged:
            for judged in self._judge(state, plan, sc, st, st.judged + sc.step, last):
                if self._new_crossing(st, judged):
                    found.append(_Found(sc, judged, 0.0))
            st.judged = last
        final = min(sc.last_final(mark), st.judged)
        if final > st.final:
            # What each window was judged on, as it was last judged.
            windows = list(_stored(st, sc, st.final + sc.step, final))
            for start, obs, _ in windows:
                if obs is not None:
                    del st.judged_as[start]
            self._learn_windows(suite.learned(st.detectors), sc, st, windows, final)
        return found

    def _judge(
        self, state: KeyState, plan: SignalPlan, sc: Scale, st: ScaleState, lo: float, hi: float
    ) -> Iterator[Judged]:
        """Judge the windows starting in ``[lo, hi]`` in order, on the provisional state,
        keeping what each window with items was judged on."""
        for start, obs, empty in self._windows(state, plan, sc, lo, hi):
            if obs is not None:
                st.judged_as[start] = obs
                yield from plan.suites[sc.name].judge(st.detectors, obs)
            else:
                yield from self._judge_empty(plan, sc, st, start, empty)

    def _judge_empty(
        self, plan: SignalPlan, sc: Scale, st: ScaleState, start: float, empty: int
    ) -> list[Judged]:
        if empty * sc.step > self.config.idle_ttl:
            # Longer than a key's state lives idle: start afresh, as if it had expired,
            # rather than step through (say) centuries after one mis-dated first item.
            plan.suites[sc.name].reset(st.detectors)
            return []
        return plan.suites[sc.name].judge_empty(st.detectors, start, sc.step, empty)

    def _windows(
        self, state: KeyState, plan: SignalPlan, sc: Scale, lo: float, hi: float
    ) -> Iterator[tuple[float, Observation | None, int]]:
        """The windows starting in ``[lo, hi]``, read from the buckets: each with items as
        an observation, each run of empty ones as its first start and length."""
        n = round((hi - lo) / sc.step) + 1
        if n <= 0:
            return
        if n * round(sc.size / plan.bucket) > 4 * len(state.buckets) + 256:
            yield from self._sparse_windows(state, sc, lo, hi, plan.suite.reads_publishers)
            return
        # Few windows (the usual case: the watermark moved by a bucket or so): look up
        # each window's buckets directly.
        run_start, run = lo, 0
        for i in range(n):
            start = lo + i * sc.step
            obs = self._window_at(state, plan, sc, start)
            if obs is not None:
                if run:
                    yield run_start, None, run
                    run = 0
                yield start, obs, 0
            else:
                if not run:
                    run_start = start
                run += 1
        if run:
            yield run_start, None, run

    @staticmethod
    def _window_at(
        state: KeyState, plan: SignalPlan, sc: Scale, start: float, least: int = 1
    ) -> Observation | None:
        """The window of ``sc`` starting at ``start``, read from its buckets; None if it
        holds fewer than ``least`` items (if empty, by default)."""
        buckets, bucket = state.buckets, plan.bucket
        if sc.size == bucket:
            b = buckets.get(start)
            if b is None or b.count < least:
                return None
            return _observation([b], start, sc.step, True)
        per = round(sc.size / bucket)
        if len(buckets) < per:  # a quiet key: fewer buckets than the window spans
            end = start + sc.size
            parts = [b for at, b in buckets.items() if start <= at < end]
        else:
            parts = [b for j in range(per) if (b := buckets.get(start + j * bucket))]
        if not parts or (least > 1 and sum(b.count for b in parts) < least):
            return None
        return _observation(parts, start, sc.step, plan.suite.reads_publishers)

    def _sparse_windows(
        self, state: KeyState, sc: Scale, lo: float, hi: float, publishers: bool
    ) -> Iterator[tuple[float, Observation | None, int]]:
        """As ``_windows``, for long spans with few buckets: from the buckets' side."""
        busy: set[float] = set()
        for b in state.buckets:
            if lo <= b < hi + sc.size:
                first, last = max(sc.oldest_start(b), lo), min(sc.newest_start(b), hi)
                n = round((last - first) / sc.step)
                busy.update(first + i * sc.step for i in range(n + 1))
        cursor = lo
        for start in sorted(busy):
            if start > cursor:
                yield cursor, None, round((start - cursor) / sc.step)
            parts = list(_within(state, start, start + sc.size))
            yield start, _observation(parts, start, sc.step, publishers), 0
            cursor = start + sc.step
        if hi >= cursor:
            yield cursor, None, round((hi - cursor) / sc.step) + 1

    @staticmethod
    @staticmethod
    def _level(
        state: KeyState,
        plan: SignalPlan,
        sc: Scale,
        judged: Judged,
        full: Observation | None = None,
    ) -> Severity:
        """The severity of a crossing: its strength, and the window's reports, publishers
        and importance (``full``: the window read with its publishers, if at hand)."""
        obs = judged.obs
        if full is None:
            parts = list(_within(state, obs.start, obs.start + sc.size))
            full = _observation(parts, obs.start, sc.step, True)
        return severity(
            judged.decision.strength * plan.weight, obs.count, full.publishers, full.importance
        )

    @staticmethod
    def _new_crossing(st: ScaleState, judged: Judged, level: str | None = None) -> bool:
        """Record a window's crossing; False if that detector crossed on it already (at
        ``level`` or above, where the crossing is judged early and its level given)."""
        start, label = judged.obs.start, judged.detector.label
        for mark in st.crossed:
            if mark.start == start and mark.detector == label:
                if level is None or _RANK[level] <= _RANK.get(mark.level or "", -1):
                    return False
                mark.level = level  # crossed again, more severely, as reports came in
                return True
        st.crossed.append(Mark(start, label, level))
        return True

    def _burst(
        self,
        state: KeyState,
        plan: SignalPlan,
        found: _Found,
        out: Advanced,
        watchlist_version: str,
        now: datetime,
    ) -> None:
        sc, (det, obs, decision) = (
            found.scale,
            (
                found.judged.detector,
                found.judged.obs,
                found.judged.decision,
            ),
        )
        start, end = obs.start, obs.start + sc.size
        parts = list(_within(state, start, end))
        evidence = sorted((e for b in parts for e in b.evidence), key=_order)
        latest = max((b.latest for b in parts if b.latest), key=_order, default=None)
        full = _observation(parts, start, sc.step, True)
        level = self._level(state, plan, sc, found.judged, full)
        crossing = Crossing(
            burst_id(state.key, end, plan.burst_quiet),
            sc.name,
            start,
            end,
            level,
            evidence[0] if evidence else None,
            latest,
        )
        opening = state.burst is None or ends_before(state.burst, end, plan.burst_quiet)
        permit = opening and plan.suite.permit(state.realert, det, end)
        moved = step(state.burst, crossing, plan.burst_quiet, permit)
        state.burst = burst = moved.burst
        update = moved.update
        if (
            update is None
            and not opening
            and det.realert.cooldown > 0  # reminders only where an interval is set
            and plan.suite.permit(state.realert, det, end)
        ):
            update = "repeat"
        if update is None:
            if opening:
                out.suppressed += 1
            else:
                out.merged += 1
            return
        assert burst is not None
        copies = sum(b.copies for b in parts)
        # A burst's first alert at each scale has one id whether it opened the burst or
        # joined it: late reports can change which scale crosses first, not which do.
        kind, what = {
            "opened": ("scale", sc.name),
            "scale": ("scale", sc.name),
            "escalation": ("escalation", level),
            "repeat": ("repeat", str(burst.repeats + 1)),
        }[update]
        if update == "repeat":
            burst.repeats += 1
        out.alerts.append(
            Alert(
                alert_id=update_id(burst.id, kind, what),
                burst_id=burst.id,
                update=update,
                signal_id=state.signal_id,
                key=state.key,
                region=state.region,
                scale=sc.name,
                window_start=_dt(start),
                window_end=_dt(end),
                early=found.early,
                decided_at=_dt(state.watermark) if math.isfinite(state.watermark) else None,
                late=found.late_by > 0,
                late_by=round(found.late_by, 3),
                counts={
                    other.name: sum(b.count for b in _within(state, end - other.size, end))
                    for other in plan.scales
                },
                first_report=_ref(burst.first),
                latest_report=_ref(burst.latest),
                count=obs.count,
                copies=copies,
                baseline=round(max(decision.baseline, 0.0), 6),
                score=round(decision.score, 6),
                severity=level,
                publishers=full.publishers,
                importance=full.importance,
                detector=DetectorInfo(name=det.label, kind=det.kind, params=det.params),
                evidence=[
                    Evidence.model_validate(e) for e in evidence[: self.config.evidence_limit]
                ],
                generated_at=now,
                watchlist_version=watchlist_version,
            )
        )

    def _forget(self, state: KeyState, plan: SignalPlan) -> None:
        """Drop what no window can read again: buckets whose windows are all final, ids
        and reports past their horizons, a burst that has ended."""
        finals = [
            (sc, st.final) for sc in plan.scales if (st := state.scales.get(sc.name)) is not None
        ]
        if len(finals) == len(plan.scales) and state.buckets:
            # A bucket is read by windows up to the one starting at its step: below the
            # least (final + step) over the scales, every such window is final.
            below = min(final + sc.step for sc, final in finals)
            if min(state.buckets) < below:
                for b in [b for b in state.buckets if b < below]:
                    del state.buckets[b]
        watermark = state.watermark
        horizon = watermark - self.config.dedup_horizon
        # Ids come roughly in time order, so the first remembered is about the oldest; one
        # out of order is forgotten when it comes first (the cap bounds them anyway).
        seen = state.seen
        while seen:
            first = next(iter(seen))
            if seen[first] >= horizon:
                break
            del seen[first]
        oldest = watermark - self.config.near_duplicate_horizon
        if state.stories and state.stories[0].at < oldest:
            state.stories = [s for s in state.stories if s.at >= oldest]
        # A window that ended while the burst was open can still cross, revised, until
        # the longest lateness has passed: it joins the burst, which is kept until then.
        if ends_before(state.burst, watermark - plan.lateness, plan.burst_quiet):
            state.burst = None

    def expired(self, state: KeyState) -> bool:
        """An idle key whose windows are all final: its state may be dropped."""
        return not state.buckets and state.watermark - state.last_event >= self.config.idle_ttl


def _made_final(st: ScaleState, final: float) -> None:
    """Windows up to the one starting at ``final`` are learned: no crossing of theirs can
    come again."""
    st.final = final
    if st.crossed:
        st.crossed = [c for c in st.crossed if c.start > final]


def _stored(
    st: ScaleState, sc: Scale, lo: float, hi: float
) -> Iterator[tuple[float, Observation | None, int]]:
    """The judged windows starting in ``[lo, hi]`` as they were judged: windows without a
    kept observation had no items."""
    cursor = lo
    for start in sorted(s for s in st.judged_as if lo <= s <= hi):
        if start > cursor:
            yield cursor, None, round((start - cursor) / sc.step)
        yield start, st.judged_as[start], 0
        cursor = start + sc.step
    if hi >= cursor:
        yield cursor, None, round((hi - cursor) / sc.step) + 1


def _observation(parts: list[Bucket], start: float, step: float, publishers: bool) -> Observation:
    """A window from its buckets. Distinct publishers (a union of the buckets' sets, the
    costly part of a day's window) only if ``publishers``: only a detector that reads
    them, and an alert's severity, need them."""
    if len(parts) == 1:
        b = parts[0]
        return Observation(start, step, b.count, len(b.publishers), b.importance)
    importance = None
    count = 0
    for b in parts:
        count += b.count
        if b.importance is not None and (importance is None or b.importance > importance):
            importance = b.importance
    distinct = len({p for b in parts for p in b.publishers}) if publishers else 0
    return Observation(start, step, count, distinct, importance)


def _within(state: KeyState, start: float, end: float) -> Iterator[Bucket]:
    """The key's buckets in ``[start, end)``."""
    for b, bucket in state.buckets.items():
        if start <= b < end:
            yield bucket


def _order(evidence: dict[str, Any]) -> tuple[str, str]:
    return evidence["published_at"], evidence["id"]


def _ref(evidence: dict[str, Any] | None) -> ReportRef | None:
    if evidence is None:
        return None
    return ReportRef(
        id=evidence["id"],
        title=evidence["title"],
        url=evidence["url"],
        source=evidence["source"],
        published_at=evidence["published_at"],
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


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _iso(ts: float) -> str:
    return _dt(ts).isoformat().replace("+00:00", "Z")
