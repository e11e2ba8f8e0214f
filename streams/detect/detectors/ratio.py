"""ElastAlert's spike rule: the newest window against the windows just before it.

``ratio = count / reference`` where the reference is the mean count of the previous
``reference_windows`` windows. Unlike ElastAlert, a reference of zero never fires, on any
count: a ratio against nothing is not a spike (use ``new_term`` or ``threshold`` for
first appearances). With ``direction: down`` the ratio is inverted to catch drops; an
empty window then counts as half an item so that the ratio stays finite.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from streams.detect.detectors.base import Decision, DetectorBase, Observation

__all__ = ["Ratio"]


class Ratio(DetectorBase):
    """The newest window's count a multiple of the recent reference (or a fraction of it)."""

    kind: Literal["ratio"] = "ratio"
    height: float = Field(default=3.0, gt=1, description="Ratio at which a window alerts.")
    reference_windows: int = Field(
        default=24, ge=1, le=1000, description="Windows before the newest that form the reference."
    )
    min_count: int = Field(
        default=5, ge=0, description="Fewest items in the newest window for an upward spike."
    )
    min_reference: float = Field(
        default=1.0,
        gt=0,
        description="Fewest items the reference windows must hold in total to compare at all.",
    )
    direction: Literal["up", "down", "both"] = Field(
        default="up", description="Rises, drops, or both."
    )

    def waits_on_silence(self, state: dict[str, Any]) -> bool:
        return self.direction != "up" and state["total"] > 0

    def initial(self) -> dict[str, Any]:
        return {"ring": [0] * self.reference_windows, "pos": 0, "total": 0, "n": 0}

    def observe(self, state: dict[str, Any], obs: Observation) -> Decision:
        ring, pos, total, n = state["ring"], state["pos"], state["total"], state["n"]
        count = obs.count
        reference = total / self.reference_windows
        score, alert = 0.0, False
        if n >= self.reference_windows and total >= self.min_reference:
            up = count / reference
            down = reference / max(count, 0.5)
            if self.direction == "up" or (self.direction == "both" and up >= down):
                score, alert = up, up >= self.height and count >= self.min_count
            else:
                score, alert = down, down >= self.height
        state["total"] = total - ring[pos] + count
        ring[pos] = count
        state["pos"] = (pos + 1) % self.reference_windows
        state["n"] = n + 1
        return Decision(score, reference, alert, score / self.height)
