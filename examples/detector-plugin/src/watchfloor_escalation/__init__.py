"""A slow climb rather than a spike: reports rising in each of the last ``windows``
windows, the newest with at least ``min_count``.

A story that grows hour after hour (more outlets, more follow-ups) can stay under a spike
detector's bar in every single window; escalation reads the trend instead. Its state is
the previous window's count and the length of the current run of rises.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from streams.detect.detectors import Decision, DetectorBase, Observation

__all__ = ["Escalation"]


class Escalation(DetectorBase):
    """More reports than the window before, window after window."""

    kind: Literal["escalation"] = "escalation"
    # More reports in the newest window only lengthen a run of rises.
    rises: ClassVar[bool] = True
    # Its bar counts windows and reports: judged at the signal's shortest scale.
    fixed_bar: ClassVar[bool] = True
    windows: int = Field(default=3, ge=1, le=100, description="Rises in a row that alert.")
    min_count: int = Field(default=3, ge=1, description="Reports the newest window needs.")

    @property
    def least_count(self) -> int:
        return self.min_count

    def initial(self) -> dict[str, Any]:
        return {"last": 0, "run": 0}

    def observe(self, state: dict[str, Any], obs: Observation) -> Decision:
        before = state["last"]
        run = state["run"] + 1 if obs.count > before else 0
        state["last"], state["run"] = obs.count, run
        alert = run >= self.windows and obs.count >= self.min_count
        return Decision(float(run), float(before), alert, run / self.windows)
