"""What every detector shares: the window it observes, the decision it returns, its config.

A detector turns the sequence of closed windows of one key into decisions. It is a frozen
pydantic model (its parameters, validated, with defaults and documentation) whose state
lives outside it, in a small JSON-able dict kept in the key's table entry; so one
detector object serves every key, and a restart restores each key's state from the
changelog. Each window costs O(1).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from streams.detect.realert import Realert

__all__ = ["Decision", "DetectorBase", "Observation"]


@dataclass(frozen=True, slots=True)
class Observation:
    """One closed window of one key."""

    start: float
    """Window start, epoch seconds."""
    step: float
    """Seconds between window starts (the window length when windows tumble)."""
    count: int
    """Distinct items counted in the window."""
    publishers: int = 0
    """Distinct publishers among them (0 for detectors that do not ``reads_publishers``)."""
    importance: int | None = None
    """Highest importance (1-10) among them, when the items carry one."""


@dataclass(frozen=True, slots=True)
class Decision:
    score: float
    """The detector's statistic for this window; its meaning depends on the detector."""
    baseline: float
    """The count the detector expected (0 when it has no notion of one)."""
    alert: bool
    strength: float = 0.0
    """Score relative to the detector's alert bound: 1 at the bound, 2 twice past it."""


class DetectorBase(BaseModel):
    """Parameters shared by all detectors; subclasses add their own and the logic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$",
        description="Distinguishes two detectors of one kind on a signal; defaults to kind.",
    )
    realert: Realert = Field(
        default_factory=Realert, description="How soon the same key may alert again."
    )
    scales: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Names of the signal's time scales this detector judges (e.g. [1h]); "
        "unset: every scale, or only the shortest for a detector whose bar is a fixed "
        "count of windows or items (threshold, flatline, new_term, cardinality).",
    )

    kind: str

    fixed_bar: ClassVar[bool] = False
    """Whether the bar is a fixed count (of items, publishers or windows), which means
    another thing at each window size: such a detector judges the shortest scale unless
    it names its ``scales``. Detectors with a baseline learn each scale's own."""

    rises: ClassVar[bool] = False
    """Whether a window that alerts would alert with more items too (a spike detector).
    Only these may judge a window early, on the items counted so far: more items can
    only confirm what they decided. Not a flatline, not a ratio that alerts on drops."""

    @property
    def least_count(self) -> int:
        """Fewest items a window needs to alert; 0 where a quiet window may (a flatline).
        Windows with fewer are not judged where the learned state judges them."""
        return 0

    reads_publishers: ClassVar[bool] = False
    """Whether ``Observation.publishers`` is read; else windows leave it at 0, sparing a
    union of publisher sets per window (alerts count them anyway)."""

    def judges_scale(self, name: str, shortest: str) -> bool:
        """Whether this detector judges the time scale ``name`` of its signal."""
        if self.scales is not None:
            return name in self.scales
        return name == shortest or not self.fixed_bar

    def waits_on_silence(self, state: dict[str, Any]) -> bool:
        """Whether, in this state, a window without items could still alert (a flatline).

        Keys whose detectors all say no are left alone until their next item arrives; the
        windows in between are then closed in one go with ``observe_empty``.
        """
        return False

    @property
    def label(self) -> str:
        """The name alerts and state use for this detector."""
        return self.name or self.kind

    @property
    def params(self) -> dict[str, float | int | str | bool]:
        """Flat parameters, carried in every alert so that it says how it was decided."""
        out: dict[str, float | int | str | bool] = {}
        for key, value in self.model_dump(exclude={"name", "kind", "realert", "scales"}).items():
            if value is not None:
                out[key] = value
        for key, value in self.realert.model_dump().items():
            if value is not None:
                out[f"realert_{key}"] = value
        return out

    def initial(self) -> dict[str, Any]:
        raise NotImplementedError

    def observe(self, state: dict[str, Any], obs: Observation) -> Decision:
        """Decide on one closed window, then fold it into ``state`` (in place)."""
        raise NotImplementedError

    def decide(self, state: dict[str, Any], obs: Observation, pending: int = 0) -> Decision:
        """Decide on a window without folding it in (an early look at an open window).
        ``pending``: windows before it that ``state`` has not learned, for detectors that
        ``judge_on_learned``; others ignore it. Override where copying the state costs."""
        return self.observe(copy.deepcopy(state), obs)

    def judges_on_learned(self, step: float, unlearned: float) -> bool:
        """Whether a window is decided the same on the state that has learned every window
        but those in the ``unlearned`` seconds before it (``decide`` told how many) as on
        one that has seen them all, and an empty window never alerts.

        Where this holds (``seasonal``: a window's slot is not among the last day's
        others) a key keeps one state per detector and time scale, its baseline: windows
        are judged on it as they close and learned into it when final, and a late report
        re-judges only its windows. Elsewhere windows are judged on a provisional state
        that has seen every judged window, rebuilt when a late report revises one."""
        return False

    def learn(self, state: dict[str, Any], obs: Observation) -> None:
        """Fold a window into ``state`` without deciding on it (a final window: its
        decision was made when it was judged). Override where deciding costs."""
        self.observe(state, obs)

    def observe_empty(
        self, state: dict[str, Any], start: float, step: float, windows: int
    ) -> list[tuple[Observation, Decision]]:
        """Observe ``windows`` empty windows from ``start``; return those that alert.

        The default observes them one by one; detectors with a closed form override it.
        """
        out = []
        for i in range(windows):
            obs = Observation(start + i * step, step, 0)
            decision = self.observe(state, obs)
            if decision.alert:
                out.append((obs, decision))
        return out
