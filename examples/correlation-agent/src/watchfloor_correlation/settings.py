"""The correlation agent's knobs: ``WATCHFLOOR_CORRELATION_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["CorrelationSettings"]


class CorrelationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WATCHFLOOR_CORRELATION_", frozen=True)

    topic: str = Field(
        default="osint.compound-alerts", description="Where compound alerts are sent."
    )
    horizon: float = Field(
        default=86_400.0,
        gt=0,
        description="Seconds of event time within which the signals' alerts must fall "
        "(between the ends of their windows); OSINT bursts last an hour to a day.",
    )
    min_signals: int = Field(
        default=2, ge=2, description="Distinct signals that make a compound alert."
    )
    signals: list[str] = Field(
        default_factory=list,
        description="The signals read together, as a JSON list of ids; empty: every signal.",
    )
