"""The correlation core on alerts made by hand: no Kafka."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from watchfloor_correlation import schema
from watchfloor_correlation.correlate import Correlator, RegionState
from watchfloor_correlation.models import CompoundAlert
from watchfloor_correlation.settings import CorrelationSettings

from streams.models import Alert

T0 = datetime(2026, 6, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=30)
SIGNALS = ["men-crossing", "service-law", "conscription", "joint-units", "formations"]


def alert(
    signal: str,
    hours: float,
    region: str = "Eastern Europe",
    burst: str = "",
    update: str = "opened",
    severity: str = "warning",
) -> Alert:
    end = T0 + timedelta(hours=hours)
    burst = burst or f"{signal}-{hours}"
    return Alert.model_validate(
        {
            "alert_id": f"{burst}-{update}-{severity}", "burst_id": burst, "update": update,
            "signal_id": signal, "key": f"{signal}|{region}", "region": region, "scale": "1h",
            "window_start": end - timedelta(hours=1), "window_end": end, "count": 9,
            "baseline": 1.0, "score": 5.0, "severity": severity, "publishers": 4,
            "detector": {"kind": "seasonal", "name": "seasonal", "params": {}},
            "evidence": [], "generated_at": NOW, "watchlist_version": "1",
        }
    )  # fmt: skip


def test_the_committed_schema_is_the_models() -> None:
    assert schema.main(["--check", str(Path(__file__).parents[1] / "schemas")]) == 0


def run(alerts: list[Alert], **conf: object) -> list[CompoundAlert]:
    correlator = Correlator(CorrelationSettings.model_validate(conf))
    states: dict[str, RegionState] = {}
    out = []
    for a in alerts:
        # Through the bytes the table keeps, as the agent does.
        state = RegionState.loads(states.get(a.region, RegionState()).dumps())
        compound = correlator.observe(state, a, NOW)
        states[a.region] = state
        if compound is not None:
            out.append(compound)
    return out


def test_two_signals_in_one_region_within_the_horizon_make_a_compound_alert() -> None:
    (compound,) = run([alert("men-crossing", 1), alert("service-law", 5)], horizon=6 * 3600)
    assert compound.signals == ["men-crossing", "service-law"]
    assert compound.region == "Eastern Europe" and compound.horizon == 6 * 3600
    assert [m.signal_id for m in compound.members] == ["men-crossing", "service-law"]
    assert compound.first_at == T0 and compound.last_at == T0 + timedelta(hours=5)


def test_signals_further_apart_than_the_horizon_or_in_other_regions_do_not() -> None:
    assert run([alert("men-crossing", 1), alert("service-law", 8)], horizon=6 * 3600) == []
    assert run([alert("men-crossing", 1), alert("service-law", 2, region="Baltic states")]) == []
    assert run([alert("men-crossing", 1), alert("men-crossing", 2, burst="b2")]) == []


def test_a_signal_joining_makes_a_new_compound_alert_and_an_update_of_a_member_none() -> None:
    alerts = [
        alert("men-crossing", 1, burst="b1"),
        alert("service-law", 2),
        alert("men-crossing", 3, burst="b1", update="scale", severity="critical"),
        alert("joint-units", 4),
    ]
    first, second = run(alerts)
    assert first.signals == ["men-crossing", "service-law"] and first.severity == "warning"
    assert second.signals == ["joint-units", "men-crossing", "service-law"]
    assert second.severity == "critical"  # the update raised men-crossing's member
    assert first.compound_id != second.compound_id


def test_reminders_of_a_burst_neither_move_it_nor_repeat_a_compound_alert() -> None:
    alerts = [
        alert("men-crossing", 1, burst="b1"),
        alert("service-law", 2, burst="b2"),
        alert("men-crossing", 30, burst="b1", update="repeat"),
        alert("service-law", 31, burst="b2", update="repeat"),
        alert("joint-units", 3),
    ]
    first, second = run(alerts, horizon=12 * 3600)
    assert first.signals == ["men-crossing", "service-law"]
    assert second.signals == ["joint-units", "men-crossing", "service-law"]
    assert second.last_at == T0 + timedelta(hours=3)


def test_min_signals_and_the_watched_signals_are_honoured() -> None:
    alerts = [alert(s, h) for h, s in enumerate(SIGNALS)]
    (compound,) = run(alerts, min_signals=5)
    assert compound.signals == sorted(SIGNALS)
    (compound,) = run(alerts, signals=["service-law", "formations"])
    assert compound.signals == ["formations", "service-law"]


@given(
    st.lists(
        st.tuples(st.sampled_from(SIGNALS), st.integers(0, 72), st.sampled_from("ab")),
        max_size=25,
    ),
    st.integers(1, 48),
)
def test_alerts_delivered_twice_repeat_compound_ids_and_every_compound_holds(
    raw: list[tuple[str, int, str]], horizon_hours: int
) -> None:
    alerts = [alert(s, h, region=f"r{r}") for s, h, r in raw]
    once = run(alerts, horizon=horizon_hours * 3600)
    twice = run(alerts + alerts, horizon=horizon_hours * 3600)
    assert {c.compound_id for c in twice} == {c.compound_id for c in once}
    for c in once:
        assert len(c.signals) >= 2 and len(set(c.signals)) == len(c.signals) == len(c.members)
        assert all(c.last_at - m.window_end <= timedelta(hours=horizon_hours) for m in c.members)
