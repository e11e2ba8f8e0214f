"""The detectors one signal runs, each with its own state and re-alert rule per key.

Closing a window runs every detector of the key's signal on it; a decision to alert goes
through that detector's re-alert rule, and what passes becomes an alert. The worker, the
offline runner and ``watchfloor backtest`` all close windows through ``DetectorSuite``,
so a backtest reproduces the worker's decisions exactly.

The worker judges each window of a time scale twice over (``streams.detect.scales``):
``judge`` decides on it as soon as it closes, on a *provisional* state that has seen
every judged window; ``learn`` folds it into the *final* state once no late report can
change it. A revised window rebuilds the provisional state from the final one
(``rebuild``) and judges the windows since again, so a baseline never counts a window
twice. Count series (``watchfloor backtest --nab``) have no late data and use ``close``.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from streams.detect.detectors import Decision, DetectorBase, Observation
from streams.detect.state import DetectorEntry

__all__ = ["DetectorSuite", "Fired", "Judged", "Learned"]


@dataclass(frozen=True, slots=True)
class Judged:
    """A detector's decision to alert on one window of a time scale."""

    detector: DetectorBase
    obs: Observation
    decision: Decision


@dataclass(frozen=True, slots=True)
class Fired:
    """A detector's decision to alert on one window, and whether re-alerting let it out."""

    detector: DetectorBase
    obs: Observation
    decision: Decision
    permitted: bool


class DetectorSuite:
    def __init__(self, detectors: Sequence[DetectorBase], window_size: float) -> None:
        labels = [d.label for d in detectors]
        if not detectors:
            raise ValueError("a signal needs at least one detector")
        if len(set(labels)) != len(labels):
            raise ValueError(f"detector names must differ on one signal: {labels}")
        self.detectors = tuple(detectors)
        self.window_size = window_size
        # A detector's state is only valid for the parameters that built it; the
        # fingerprint lets a changed watchlist restart that detector's learning alone.
        self._prints = {d.label: _fingerprint(d) for d in detectors}
        self._plan = tuple((d, d.label, self._prints[d.label]) for d in detectors)
        self._lean: dict[tuple[float, float], bool] = {}
        self.least_count = min(d.least_count for d in detectors)
        """Fewest items a window needs for any of these detectors to alert on it."""
        self.reads_publishers = any(d.reads_publishers for d in detectors)
        """Whether windows must count their distinct publishers for these detectors."""

    def initial(self) -> dict[str, DetectorEntry]:
        return {d.label: self._fresh(d) for d in self.detectors}

    def close(
        self,
        states: dict[str, DetectorEntry],
        obs: Observation,
        decisions: list[tuple[DetectorBase, Decision]] | None = None,
    ) -> list[Fired]:
        """Run every detector on one closed window; each one's decision, alerting or not,
        is appended to ``decisions`` when given (a backtest's picture shows baselines)."""
        fired = []
        for det, entry in self._entries(states):
            decision = det.observe(entry.judging(), obs)
            if decisions is not None:
                decisions.append((det, decision))
            if decision.alert:
                fired.append(self._fire(det, entry, obs, decision))
        return fired

    def skip(
        self, states: dict[str, DetectorEntry], start: float, step: float, windows: int
    ) -> list[Fired]:
        """Close ``windows`` empty windows from ``start``."""
        if windows <= 0:
            return []
        fired = []
        for det, entry in self._entries(states):
            for obs, decision in det.observe_empty(entry.judging(), start, step, windows):
                fired.append(self._fire(det, entry, obs, decision))
        fired.sort(key=lambda f: f.obs.start)
        return fired

    def waits_on_silence(self, states: dict[str, DetectorEntry]) -> bool:
        """Whether an empty window could alert for this key (see ``waits_on_silence``)."""
        # The provisional state where one is kept, else the learned one.
        return any(
            det.waits_on_silence(
                entry.provisional if entry.provisional is not None else entry.learning()
            )
            for det, entry in self._entries(states)
        )

    def initial_scale(self) -> dict[str, DetectorEntry]:
        """Per detector, the provisional and final states of one time scale of a key."""
        return {d.label: self._fresh_scale(d) for d in self.detectors}

    def judge(self, states: dict[str, DetectorEntry], obs: Observation) -> list[Judged]:
        """Decide on a window as it closes (or is revised), on the provisional state."""
        out = []
        for det, entry in self._entries(states, self._fresh_scale):
            decision = det.observe(entry.judging(), obs)
            if decision.alert:
                out.append(Judged(det, obs, decision))
        return out

    def peek(
        self, states: dict[str, DetectorEntry], obs: Observation, pending: int | None
    ) -> list[Judged]:
        """Decide on a window still open, on the reports counted so far, without learning
        it: only detectors whose decision rises with the count, so that more reports can
        confirm an alert but never take it back. ``pending`` as in ``judge_learned``; None:
        on the provisional state."""
        out = []
        for det, entry in self._entries(states, self._fresh_scale):
            if det.rises:
                if pending is None:
                    decision = det.decide(entry.judging(), obs)
                else:
                    decision = det.decide(entry.learning(), obs, pending)
                if decision.alert:
                    out.append(Judged(det, obs, decision))
        return out

    def judges_on_learned(self, step: float, unlearned: float) -> bool:
        """Whether every detector judges windows on its learned state alone
        (``DetectorBase.judges_on_learned``)."""
        key = (step, unlearned)
        lean = self._lean.get(key)
        if lean is None:
            lean = all(d.judges_on_learned(step, unlearned) for d in self.detectors)
            self._lean[key] = lean
        return lean

    def learned(self, states: dict[str, DetectorEntry]) -> Learned:
        """One time scale's learned (final) states, checked against the detectors."""
        return Learned(self, self._entries(states, self._fresh_learned))

    def judge_empty(
        self, states: dict[str, DetectorEntry], start: float, step: float, windows: int
    ) -> list[Judged]:
        out = []
        if windows > 0:
            for det, entry in self._entries(states, self._fresh_scale):
                for obs, decision in det.observe_empty(entry.judging(), start, step, windows):
                    out.append(Judged(det, obs, decision))
        out.sort(key=lambda j: j.obs.start)
        return out

    def rebuild(self, states: dict[str, DetectorEntry]) -> None:
        """Provisional states back to the final ones, to judge revised windows again."""
        for _, entry in self._entries(states, self._fresh_scale):
            entry.provisional = copy.deepcopy(entry.learning())

    def reset(self, states: dict[str, DetectorEntry]) -> None:
        """Provisional states judge afresh (after a gap longer than keys live idle; the
        final ones learn afresh through ``Learned.reset``)."""
        for det, entry in self._entries(states, self._fresh_scale):
            entry.provisional = det.initial()

    def permit(self, realert: dict[str, Any], det: DetectorBase, at: float) -> bool:
        """Whether ``det``'s re-alert rule lets a new burst of the key open at ``at``."""
        return det.realert.permit(realert.setdefault(det.label, {}), at)

    def _entries(
        self,
        states: dict[str, DetectorEntry],
        fresh: Callable[[DetectorBase], DetectorEntry] | None = None,
    ) -> list[tuple[DetectorBase, DetectorEntry]]:
        fresh = fresh or self._fresh
        if len(states) != len(self._plan):
            for label in set(states) - set(self._prints):
                del states[label]
        out = []
        for det, label, fingerprint in self._plan:
            entry = states.get(label)
            if entry is None or entry.fingerprint != fingerprint:
                entry = states[label] = fresh(det)
            out.append((det, entry))
        return out

    def _fire(
        self, det: DetectorBase, entry: DetectorEntry, obs: Observation, decision: Decision
    ) -> Fired:
        permitted = det.realert.permit(entry.rule(), obs.start + self.window_size)
        return Fired(det, obs, decision, permitted)

    def _fresh(self, det: DetectorBase) -> DetectorEntry:
        return DetectorEntry(self._prints[det.label], provisional=det.initial(), realert={})

    def _fresh_scale(self, det: DetectorBase) -> DetectorEntry:
        return DetectorEntry(self._prints[det.label], det.initial(), det.initial())

    def _fresh_learned(self, det: DetectorBase) -> DetectorEntry:
        return DetectorEntry(self._prints[det.label], final=det.initial())

    def drop_provisional(self, states: dict[str, DetectorEntry]) -> None:
        """Forget the provisional states (judging on the learned ones now)."""
        for entry in states.values():
            entry.provisional = None

    def has_provisional(self, states: dict[str, DetectorEntry]) -> bool:
        return all(entry.provisional is not None for entry in states.values())


class Learned:
    """The learned states of one time scale of a key, ready to judge and learn windows."""

    __slots__ = ("_entries", "suite")

    def __init__(
        self, suite: DetectorSuite, entries: list[tuple[DetectorBase, DetectorEntry]]
    ) -> None:
        self.suite = suite
        """The detectors the states were checked against: a new watchlist checks again."""
        self._entries = entries

    def judge(self, obs: Observation, pending: int) -> list[Judged]:
        """Decide on a window as it closes (or is revised) on the learned state, where
        ``judges_on_learned``: ``pending`` windows before it are not learned yet."""
        out = []
        for det, entry in self._entries:
            decision = det.decide(entry.learning(), obs, pending)
            if decision.alert:
                out.append(Judged(det, obs, decision))
        return out

    def learn(self, obs: Observation) -> None:
        for det, entry in self._entries:
            det.learn(entry.learning(), obs)

    def learn_empty(self, start: float, step: float, windows: int) -> None:
        for det, entry in self._entries:
            det.observe_empty(entry.learning(), start, step, windows)

    def reset(self) -> None:
        """Learn afresh, after a gap longer than keys live idle."""
        for det, entry in self._entries:
            entry.final = det.initial()


def _fingerprint(det: DetectorBase) -> str:
    # Which scales a detector judges is not a parameter of its state.
    return hashlib.sha256(det.model_dump_json(exclude={"scales"}).encode()).hexdigest()[:12]
