"""ElastAlert's new_term rule: a key (for a signal: a region) never seen before.

The first window in which the key reaches ``min_count`` items alerts; after that the key
is known. "Never" means within the key's state lifetime (``WATCHFLOOR_IDLE_KEY_TTL``,
like ElastAlert's ``terms_window_size``): a region silent for longer is new again.

A first deployment reads history in which every key is new once. ElastAlert queries
its history window on start-up for this; here ``since`` says from when on a first
appearance is news: keys that appear in windows before it are learnt silently. State:
one flag.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, Field

from streams.detect.detectors.base import Decision, DetectorBase, Observation

__all__ = ["NewTerm"]


class NewTerm(DetectorBase):
    """First appearance of a key."""

    kind: Literal["new_term"] = "new_term"
    fixed_bar: ClassVar[bool] = True
    min_count: int = Field(
        default=1, ge=1, description="Items in one window that make the key known."
    )
    since: AwareDatetime | None = Field(
        default=None,
        description="Event time before which first appearances are learnt without alerting.",
    )

    @property
    def params(self) -> dict[str, float | int | str | bool]:
        params = super().params
        if isinstance(self.since, datetime):
            params["since"] = self.since.isoformat()
        return params

    def initial(self) -> dict[str, Any]:
        return {"known": False}

    def observe(self, state: dict[str, Any], obs: Observation) -> Decision:
        arrived = obs.count >= self.min_count
        alert = arrived and not state["known"]
        if alert and self.since is not None and obs.start < self.since.timestamp():
            alert = False
        if arrived:
            state["known"] = True
        return Decision(float(obs.count), 0.0, alert, obs.count / self.min_count)

    def observe_empty(
        self, state: dict[str, Any], start: float, step: float, windows: int
    ) -> list[tuple[Observation, Decision]]:
        return []  # an empty window changes nothing here
