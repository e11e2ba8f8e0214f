"""ElastAlert's flatline rule: a key that was active falls silent (a feed has died).

A window is quiet when it holds fewer than ``below`` items. After ``windows`` quiet
windows in a row the key alerts, and again after each further ``windows`` of silence
(the re-alert rule may space these out more). Keys that never reached ``warmup`` active
windows do not alert: silence from something never heard is not news. State: two
counters.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from streams.detect.detectors.base import Decision, DetectorBase, Observation

__all__ = ["Flatline"]


class Flatline(DetectorBase):
    """Too few items for too long."""

    kind: Literal["flatline"] = "flatline"
    fixed_bar: ClassVar[bool] = True
    below: int = Field(default=1, ge=1, description="A window with fewer items is quiet.")
    windows: int = Field(default=24, ge=1, description="Quiet windows in a row that alert.")
    warmup: int = Field(
        default=1, ge=1, description="Active windows the key needs before silence counts."
    )

    def waits_on_silence(self, state: dict[str, Any]) -> bool:
        return bool(state["active"] >= self.warmup)

    def initial(self) -> dict[str, Any]:
        return {"quiet": 0, "active": 0}

    def observe(self, state: dict[str, Any], obs: Observation) -> Decision:
        if obs.count < self.below:
            state["quiet"] += 1
        else:
            state["quiet"] = 0
            state["active"] += 1
        quiet = state["quiet"]
        alert = state["active"] >= self.warmup and quiet >= self.windows
        alert = alert and quiet % self.windows == 0
        return Decision(float(quiet), float(self.below), alert, quiet / self.windows)
