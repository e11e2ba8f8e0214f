"""Re-alert rules: how soon one key may alert again after an alert (ElastAlert's realert).

After an alert the key is quiet for ``cooldown``. With ``backoff`` above 1 the quiet period
grows by that factor each time the key alerts again within twice the current period, up
to ``max_cooldown``, and falls back to ``cooldown`` once the key has been calm for longer
than twice the current period, like ElastAlert's ``exponential_realert``. Back-off needs
a ``cooldown`` above zero to grow from. Times
are event time (window ends), and the rule's state lives in the key's table entry, so
neither a replay nor a restart resets it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

__all__ = ["Duration", "Realert", "parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(value: object) -> object:
    """Seconds from a number or a string such as ``90s``, ``15m``, ``6h``, ``2d``, ``1w``."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a duration such as 90s, 15m, 6h, 2d or 1w")
        return float(match.group(1)) * _UNITS[match.group(2)]
    return value


Duration = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]


class Realert(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cooldown: Duration = Field(
        default=0.0, description="Quiet time after an alert (seconds, or 15m / 6h / 2d)."
    )
    backoff: float = Field(
        default=1.0, ge=1.0, description="Factor the quiet time grows by while alerts recur."
    )
    max_cooldown: Duration | None = Field(
        default=None, description="Longest quiet time that backoff may reach."
    )

    @model_validator(mode="after")
    def _max_covers_cooldown(self) -> Realert:
        if self.max_cooldown is not None and self.max_cooldown < self.cooldown:
            raise ValueError("max_cooldown must not be shorter than cooldown")
        return self

    def permit(self, state: dict[str, Any], at: float) -> bool:
        """Whether an alert at event time ``at`` may go out; records it in ``state`` if so."""
        until = state.get("until")
        if until is not None and at < until:
            return False
        interval = self.cooldown
        last, previous = state.get("last"), state.get("interval", self.cooldown)
        if self.backoff > 1.0 and last is not None and at - last <= 2 * previous:
            interval = previous * self.backoff
            if self.max_cooldown is not None:
                interval = min(interval, self.max_cooldown)
            interval = max(interval, self.cooldown)
        state["last"] = at
        state["interval"] = interval
        state["until"] = at + interval
        return True
