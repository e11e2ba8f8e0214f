"""The record on the compound-alerts topic; ``schemas/`` holds its JSON Schema."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

__all__ = ["CompoundAlert", "Member"]

Severity = Literal["info", "warning", "critical"]


class Member(BaseModel):
    """One signal's burst that took part, from its alerts on ``osint.alerts``."""

    signal_id: str
    alert_id: str = Field(
        description="The burst's first alert, or the later one that raised its severity."
    )
    burst_id: str
    severity: Severity = Field(description="The highest severity the burst's alerts reached.")
    window_start: AwareDatetime = Field(description="Start of the window that opened the burst.")
    window_end: AwareDatetime = Field(description="End of the window that opened the burst.")


class CompoundAlert(BaseModel):
    """Several signals alerting for one region within the horizon."""

    compound_id: str = Field(
        description="Stable: from the region and the bursts taking part, so a repeated "
        "input repeats the same id; a burst joining makes a new one."
    )
    region: str
    signals: list[str] = Field(description="The distinct signals taking part, sorted.")
    members: list[Member] = Field(description="Each signal's latest alert, oldest first.")
    first_at: AwareDatetime = Field(description="Start of the earliest member's window.")
    last_at: AwareDatetime = Field(description="End of the latest member's window.")
    horizon: float = Field(gt=0, description="Seconds the members' window ends lie within.")
    severity: Severity = Field(description="The highest severity among the members.")
    generated_at: AwareDatetime
