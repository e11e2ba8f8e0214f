"""ElastAlert's cardinality rule, on distinct publishers per window.

Above ``max_publishers``: a story many outlets carry at once. Below ``min_publishers``
while the window holds at least ``min_count`` items: a burst carried by a few outlets,
which deserves a second look before anyone trusts it. State: none.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from streams.detect.detectors.base import Decision, DetectorBase, Observation

__all__ = ["Cardinality"]


class Cardinality(DetectorBase):
    """Distinct publishers in a window above or below a bound."""

    kind: Literal["cardinality"] = "cardinality"
    fixed_bar: ClassVar[bool] = True
    reads_publishers: ClassVar[bool] = True
    max_publishers: int | None = Field(
        default=None, ge=0, description="Alert when more distinct publishers than this."
    )
    min_publishers: int | None = Field(
        default=None, ge=1, description="Alert when fewer distinct publishers than this..."
    )
    min_count: int = Field(
        default=5, ge=1, description="...in a window holding at least this many items."
    )

    @model_validator(mode="after")
    def _one_bound(self) -> Cardinality:
        if self.max_publishers is None and self.min_publishers is None:
            raise ValueError("set max_publishers, min_publishers or both")
        return self

    def initial(self) -> dict[str, Any]:
        return {}

    def observe(self, state: dict[str, Any], obs: Observation) -> Decision:
        publishers = obs.publishers
        if self.max_publishers is not None and publishers > self.max_publishers:
            return Decision(float(publishers), 0.0, True, publishers / max(self.max_publishers, 1))
        if (
            self.min_publishers is not None
            and obs.count >= self.min_count
            and publishers < self.min_publishers
        ):
            return Decision(float(publishers), 0.0, True, self.min_publishers / max(publishers, 1))
        return Decision(float(publishers), 0.0, False, 0.0)

    def observe_empty(
        self, state: dict[str, Any], start: float, step: float, windows: int
    ) -> list[tuple[Observation, Decision]]:
        return []  # an empty window changes nothing here
