"""ElastAlert's frequency rule: at least ``count`` items within ``windows`` windows.

State: the counts of the last ``windows`` windows (a ring), so the sum is a sliding one
over the timeframe however the windows are sized.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from streams.detect.detectors.base import Decision, DetectorBase, Observation

__all__ = ["Threshold"]


class Threshold(DetectorBase):
    """A fixed number of reports within a timeframe, whatever came before."""

    kind: Literal["threshold"] = "threshold"
    fixed_bar: ClassVar[bool] = True
    rises: ClassVar[bool] = True
    count: int = Field(ge=1, description="Items within the timeframe that raise an alert.")
    windows: int = Field(
        default=1, ge=1, le=1000, description="Timeframe, in windows (the newest included)."
    )

    def initial(self) -> dict[str, Any]:
        return {"ring": [0] * self.windows, "pos": 0, "total": 0}

    def observe(self, state: dict[str, Any], obs: Observation) -> Decision:
        ring, pos = state["ring"], state["pos"]
        total = state["total"] - ring[pos] + obs.count
        ring[pos] = obs.count
        state["pos"] = (pos + 1) % self.windows
        state["total"] = total
        return Decision(float(total), 0.0, total >= self.count, total / self.count)

    def observe_empty(
        self, state: dict[str, Any], start: float, step: float, windows: int
    ) -> list[tuple[Observation, Decision]]:
        # Until the timeframe has slid past the last counts the sum may still alert; after
        # that every window sums to zero.
        head = min(windows, self.windows)
        fired = super().observe_empty(state, start, step, head)
        state["pos"] = (state["pos"] + windows - head) % self.windows
        return fired

    def waits_on_silence(self, state: dict[str, Any]) -> bool:
        return bool(state["total"] >= self.count)
