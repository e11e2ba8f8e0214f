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

from dataclasses import dataclass
from typing import Any, Literal

from streams.detect.severity import Severity

__all__ = ["BurstStep", "Crossing", "step"]

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


@dataclass(frozen=True, slots=True)
class BurstStep:
    burst: dict[str, Any] | None
    """The key's burst after the crossing."""
    update: Update | None
    """What to send for the crossing; None: merged (or held back when no burst opened)."""


def step(burst: dict[str, Any] | None, crossing: Crossing, quiet: float, permit: bool) -> BurstStep:
    """Apply one crossing to the key's burst. ``permit``: may a new burst open now."""
    if burst is not None and crossing.end > burst["last"] + quiet:
        burst = None  # the previous burst ended before this crossing
    if burst is None:
        if not permit:
            return BurstStep(None, None)
        opened = {
            "id": crossing.alert_id,
            "start": crossing.start,
            "last": crossing.end,
            "severity": crossing.severity,
            "scales": [crossing.scale],
            "first": crossing.first,
            "latest": crossing.latest,
        }
        return BurstStep(opened, "opened")
    burst = {
        **burst,
        "last": max(burst["last"], crossing.end),
        "start": min(burst["start"], crossing.start),
        "first": _pick(burst["first"], crossing.first, min),
        "latest": _pick(burst["latest"], crossing.latest, max),
    }
    update: Update | None = None
    if crossing.scale not in burst["scales"]:
        burst["scales"] = [*burst["scales"], crossing.scale]
        update = "scale"
    if _RANK[crossing.severity] > _RANK[burst["severity"]]:
        burst["severity"] = crossing.severity
        update = update or "escalation"
    return BurstStep(burst, update)


def ends_before(burst: dict[str, Any] | None, at: float, quiet: float) -> bool:
    """Whether ``burst`` has ended by event time ``at`` (so its state may go)."""
    return burst is not None and at > burst["last"] + quiet


def _pick(a: dict[str, Any] | None, b: dict[str, Any] | None, which: Any) -> dict[str, Any] | None:
    if a is None or b is None:
        return a or b
    return which(a, b, key=lambda e: (e["published_at"], e["id"]))
