"""One burst, one alert: how a key's crossings at every time scale become alerts.

A *crossing* is a detector deciding that a window of some time scale is past its bar.
The scales of a key share one burst state, like an Alertmanager group:

- a crossing while the key has no open burst opens one, if the detector's re-alert rule
  lets a new burst out (``realert``); its alert is ``opened`` and its id is the burst's,
  derived from the key and the end of the crossing window;
- a crossing of the open burst at a scale it has not crossed yet goes out as an update
  (``scale``), and one whose severity is above the burst's so far as ``escalation``;
- another crossing of the open burst goes out as a reminder (``repeat``) when its
  detector's re-alert rule lets it (ElastAlert's realert, Alertmanager's repeat
  interval: with back-off the reminders thin out as the burst goes on);
- every other crossing of the open burst is merged into it: it moves the burst's latest
  report and end, and sends nothing;
- a burst ends once none of its windows has crossed for ``quiet`` seconds of event time
  (window ends, so a replay ends it where the live run did).

The 24-hour windows of a sharp burst keep crossing for a day after it; they are merged,
so the burst stays one burst with a handful of alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from streams.detect.severity import Severity

__all__ = ["Burst", "BurstStep", "Crossing", "ends_before", "step"]

_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}

Update = Literal["opened", "scale", "escalation", "repeat"]


@dataclass(frozen=True, slots=True)
class Crossing:
    alert_id: str
    scale: str
    start: float
    end: float
    severity: Severity
    first: dict[str, Any] | None
    """Earliest report of the crossing window (evidence form), if it holds any."""
    latest: dict[str, Any] | None
    """Newest report counted in the window."""


@dataclass(slots=True)
class Burst:
    """A key's open burst, kept in its state until it has ended.

    Stored as a JSON object with these field names (``repeats`` only once non-zero).
    """

    id: str
    start: float
    """Start of the earliest window that crossed in it."""
    last: float
    """End of the latest window that crossed in it."""
    severity: Severity
    """The highest severity it reached."""
    scales: list[str] = field(default_factory=list)
    """The time scales it crossed at, in the order it crossed them."""
    first: dict[str, Any] | None = None
    """Earliest report of its crossing windows (evidence form)."""
    latest: dict[str, Any] | None = None
    """Newest report counted in it so far."""
    repeats: int = 0
    """Reminders sent so far."""

    def to_json(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "start": self.start,
            "last": self.last,
            "severity": self.severity,
            "scales": self.scales,
            "first": self.first,
            "latest": self.latest,
        }
        if self.repeats:
            out["repeats"] = self.repeats
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Burst:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class BurstStep:
    burst: Burst | None
    """The key's burst after the crossing."""
    update: Update | None
    """What to send for the crossing; None: merged (or held back when no burst opened)."""


def step(burst: Burst | None, crossing: Crossing, quiet: float, permit: bool) -> BurstStep:
    """Apply one crossing to the key's burst. ``permit``: may a new burst open now."""
    if burst is not None and crossing.end > burst.last + quiet:
        burst = None  # the previous burst ended before this crossing
    if burst is None:
        if not permit:
            return BurstStep(None, None)
        opened = Burst(
            crossing.alert_id,
            crossing.start,
            crossing.end,
            crossing.severity,
            [crossing.scale],
            crossing.first,
            crossing.latest,
        )
        return BurstStep(opened, "opened")
    burst = replace(
        burst,
        last=max(burst.last, crossing.end),
        start=min(burst.start, crossing.start),
        first=_pick(burst.first, crossing.first, min),
        latest=_pick(burst.latest, crossing.latest, max),
    )
    update: Update | None = None
    if crossing.scale not in burst.scales:
        burst.scales = [*burst.scales, crossing.scale]
        update = "scale"
    if _RANK[crossing.severity] > _RANK[burst.severity]:
        burst.severity = crossing.severity
        update = update or "escalation"
    return BurstStep(burst, update)


def ends_before(burst: Burst | None, at: float, quiet: float) -> bool:
    """Whether ``burst`` has ended by event time ``at`` (so its state may go)."""
    return burst is not None and at > burst.last + quiet


def _pick(a: dict[str, Any] | None, b: dict[str, Any] | None, which: Any) -> dict[str, Any] | None:
    if a is None or b is None:
        return a or b
    return which(a, b, key=lambda e: (e["published_at"], e["id"]))
