"""Synthetic OSINT scenarios with known answers, to measure detectors on the service's own data.

Each scenario is one signal and region over several weeks of hourly reporting with a
daily rhythm (busier by day than at night, as news is), plus one labelled event:

- ``spike``: 14 extra reports within one hour;
- ``step``: 6 extra reports an hour for 6 hours;
- ``ramp``: 1, 2, ... 8 extra reports an hour;
- ``decay``: 14, 8, 5, 3, 2 extra reports an hour (a story breaks, then fades);
- ``night``: 6 extra reports an hour for 2 hours at 02:00 UTC, on a feed with a strong
  daily rhythm (4 an hour by day, 0.2 at night), where a plain baseline sees nothing odd;
- ``late``: a ``step`` whose reports arrive out of order: a third delayed by up to
  10 minutes (within grace), a tenth by 2 hours (past it, counted as late);
- ``quiet``: 60 days of background and no event, to count false alerts;
- ``silence``: the feed stops for good after 30 days (the event ``flatline`` is for);
- ``new_region``: a region with no history starts reporting (for ``new_term``);
- ``one_outlet``: 8 extra reports an hour for 3 hours, all from one outlet (for
  ``cardinality`` with a lower bound).

A labelled event spans its extra reports plus two hours, so an alert in the hours right
after the reports is not counted as false. Items are raw items worded by the sample-feed
generator, so scenarios run through matching, windows, grace and detection exactly as in
the worker (``streams.offline``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from streams.sources.samplefeed import PUBLISHERS, signal_reports

__all__ = ["BURSTS", "KINDS", "SIGNAL", "Scenario", "poisson", "scenario", "scenarios"]

SIGNAL = "belarus-men-crossing-eu"
REGION = "Eastern Europe"
KEY = f"{SIGNAL}|eastern-europe"
START = datetime(2026, 3, 2, tzinfo=UTC)
H = timedelta(hours=1)

BURSTS: dict[str, list[int]] = {
    "spike": [14],
    "step": [6] * 6,
    "ramp": [1, 2, 3, 4, 5, 6, 7, 8],
    "decay": [14, 8, 5, 3, 2],
    "night": [6, 6],
    "late": [6] * 6,
    "one_outlet": [8, 8, 8],
}
KINDS = (*BURSTS, "quiet", "silence", "new_region")


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    items: list[dict[str, object]]
    """Raw items in delivery order."""
    labels: dict[str, list[tuple[float, float]]]
    """Labelled events per key (a key with an empty list must stay quiet)."""


def scenarios(seeds: Sequence[int], kinds: Sequence[str] = KINDS) -> Iterator[Scenario]:
    for kind in kinds:
        for seed in seeds:
            yield scenario(kind, seed)


def scenario(kind: str, seed: int) -> Scenario:
    rng = random.Random(f"{kind}|{seed}")
    days = 60 if kind == "quiet" else 35
    day_rate, night_rate = (4.0, 0.2) if kind == "night" else (1.0, 0.2)
    stop = START + timedelta(days=30) if kind == "silence" else START + timedelta(days=days)
    background = list(_rhythm(rng, START, stop, day_rate, night_rate))
    events: list[tuple[float, float]] = []
    extra: list[datetime] = []
    outlets = None
    region, key = REGION, KEY
    if kind in BURSTS:
        hour = 2 if kind == "night" else rng.randrange(6, 18)
        begin = START + timedelta(days=28, hours=hour)
        for i, n in enumerate(BURSTS[kind]):
            extra += [begin + i * H + timedelta(seconds=rng.uniform(0, 3599)) for _ in range(n)]
        end = begin + len(BURSTS[kind]) * H + 2 * H
        events.append((begin.timestamp(), end.timestamp() - 1))
        if kind == "one_outlet":
            outlets = [rng.choice(PUBLISHERS)]
    elif kind == "silence":
        events.append((stop.timestamp(), (START + timedelta(days=days)).timestamp() - 1))
    elif kind == "new_region":
        region, key = "Baltics", f"{SIGNAL}|baltics"
        begin = START + timedelta(days=28, hours=rng.randrange(6, 18))
        extra = [begin + timedelta(seconds=rng.uniform(0, 3 * 3600)) for _ in range(6)]
        events.append((begin.timestamp(), (begin + 5 * H).timestamp() - 1))
    items = signal_reports(seed, SIGNAL, REGION, background)
    if extra:
        burst = signal_reports(seed + 10_000, SIGNAL, region, extra, outlets)
        for item in burst:
            item["id"] = f"{item['id']}-event"
        items += burst
    labels = {KEY: [] if kind == "new_region" else events}
    if kind == "new_region":
        labels[key] = events
    if kind == "silence":
        # A heartbeat from elsewhere keeps event time moving after the feed dies, as the
        # rest of the raw topic would.
        items += _heartbeat(stop, START + timedelta(days=days))
    return Scenario(kind, seed, _deliver(rng, items, late=kind == "late"), labels)


def _rhythm(
    rng: random.Random, start: datetime, stop: datetime, day_rate: float, night_rate: float
) -> Iterator[datetime]:
    """Poisson arrivals, busier from 07:00 to 21:00 UTC."""
    hour = start
    while hour < stop:
        rate = day_rate if 7 <= hour.hour < 21 else night_rate
        for _ in range(poisson(rng, rate)):
            yield hour + timedelta(seconds=rng.uniform(0, 3599))
        hour += H


def poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method; the means here are small.
    limit, k, p = pow(2.718281828459045, -mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _heartbeat(start: datetime, stop: datetime) -> list[dict[str, object]]:
    beats: list[dict[str, object]] = []
    at = start
    while at < stop:
        beats.append(
            {
                "id": f"heartbeat-{int(at.timestamp())}",
                "title": "Weather bulletin",
                "published_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": "Western Europe",
            }
        )
        at += H
    return beats


def _deliver(
    rng: random.Random, items: list[dict[str, object]], late: bool
) -> list[dict[str, object]]:
    """Delivery order: by publication time, except that ``late`` scenarios delay some."""

    def arrival(item: dict[str, object]) -> float:
        ts = datetime.fromisoformat(str(item["published_at"])).timestamp()
        if late and str(item["id"]).endswith("-event"):
            roll = rng.random()
            if roll < 0.1:
                return ts + 7200
            if roll < 0.43:
                return ts + rng.uniform(0, 600)
        return ts

    return [item for _, item in sorted(((arrival(i), n), i) for n, i in enumerate(items))]
