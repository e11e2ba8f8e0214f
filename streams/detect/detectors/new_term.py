"""ElastAlert's new_term rule: a key (for a signal: a region) never seen before.

The first window in which the key reaches ``min_count`` items alerts; after that the key
is known. "Never" means within the key's state lifetime (``WATCHFLOOR_IDLE_KEY_TTL``,
like ElastAlert's ``terms_window_size``): a region silent for longer is new again. A
fresh deployment learns the known keys by replaying history first. State: one flag.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from streams.detect.detectors.base import Decision, DetectorBase, Observation

__all__ = ["NewTerm"]


class NewTerm(DetectorBase):
    """First appearance of a key."""

    kind: Literal["new_term"] = "new_term"
    min_count: int = Field(
        default=1, ge=1, description="Items in one window that make the key known."
    )

    def initial(self) -> dict[str, Any]:
        return {"known": False}

    def observe(self, state: dict[str, Any], obs: Observation) -> Decision:
        arrived = obs.count >= self.min_count
        alert = arrived and not state["known"]
        if arrived:
            state["known"] = True
        return Decision(float(obs.count), 0.0, alert, obs.count / self.min_count)

    def skip_empty(self, state: dict[str, Any], start: float, step: float, windows: int) -> None:
        return None
