"""Which alerts make a compound alert: plain Python, no Kafka, tested directly.

Per region the state keeps each signal's latest burst, placed in time by the window
that opened it: its updates (another time scale, a higher severity, a reminder) raise the
member's severity but neither move it nor make a new compound alert. Members whose
window ended more than the horizon before the newest one fall out; when at least
``min_signals`` signals remain, and that set of bursts was not reported yet, a compound
alert goes out. Its id comes from the region and the bursts, so the same alerts read
twice (Kafka delivers at least once) make the same compound alert.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson

from streams.models import Alert
from watchfloor_correlation.models import CompoundAlert, Member
from watchfloor_correlation.settings import CorrelationSettings

__all__ = ["Correlator", "RegionState"]

_RANK = {"info": 0, "warning": 1, "critical": 2}
# Enough to recognise a set of bursts reported before while members come and go.
REMEMBERED = 32


@dataclass(slots=True)
class RegionState:
    """What one region's entry in the agent's table holds."""

    members: dict[str, Member] = field(default_factory=dict)
    """Each signal's latest alert, by signal id."""
    reported: list[str] = field(default_factory=list)
    """The ids of the latest compound alerts sent for the region, newest last."""

    def dumps(self) -> bytes:
        return orjson.dumps(
            {"m": [m.model_dump(mode="json") for m in self.members.values()], "r": self.reported}
        )

    @classmethod
    def loads(cls, raw: bytes | None) -> RegionState:
        if not raw:
            return cls()
        data = orjson.loads(raw)
        members = (Member.model_validate(m) for m in data["m"])
        return cls({m.signal_id: m for m in members}, data["r"])


class Correlator:
    def __init__(self, settings: CorrelationSettings) -> None:
        self.horizon = timedelta(seconds=settings.horizon)
        self.min_signals = settings.min_signals
        self.signals = frozenset(settings.signals)

    def observe(self, state: RegionState, alert: Alert, now: datetime) -> CompoundAlert | None:
        """Take ``alert`` into its region's ``state``; the compound alert it completes, if any."""
        if self.signals and alert.signal_id not in self.signals:
            return None
        new = Member(
            signal_id=alert.signal_id,
            alert_id=alert.alert_id,
            burst_id=alert.burst_id,
            severity=alert.severity,
            window_start=alert.window_start,
            window_end=alert.window_end,
        )
        old = state.members.get(new.signal_id)
        if old is not None and old.burst_id == new.burst_id:
            if _RANK[new.severity] > _RANK[old.severity]:
                state.members[new.signal_id] = old.model_copy(
                    update={"severity": new.severity, "alert_id": new.alert_id}
                )
        elif old is None or new.window_end >= old.window_end:
            state.members[new.signal_id] = new
        newest = max(m.window_end for m in state.members.values())
        state.members = {
            s: m for s, m in state.members.items() if newest - m.window_end <= self.horizon
        }
        if len(state.members) < self.min_signals:
            return None
        members = sorted(state.members.values(), key=lambda m: (m.window_end, m.signal_id))
        compound_id = _compound_id(alert.region, members)
        if compound_id in state.reported:
            return None
        state.reported = [*state.reported, compound_id][-REMEMBERED:]
        return CompoundAlert(
            compound_id=compound_id,
            region=alert.region,
            signals=sorted(state.members),
            members=members,
            first_at=min(m.window_start for m in members),
            last_at=newest,
            horizon=self.horizon.total_seconds(),
            severity=max((m.severity for m in members), key=_RANK.__getitem__),
            generated_at=now,
        )


def _compound_id(region: str, members: list[Member]) -> str:
    bursts = sorted(f"{m.signal_id}={m.burst_id}" for m in members)
    return hashlib.sha256("|".join([region, *bursts]).encode()).hexdigest()[:24]
