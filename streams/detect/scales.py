"""Time scales: the window sizes a signal is judged at, each with its own allowed lateness.

OSINT bursts range from a sharp hour to a slow day, so every key is judged at several
window sizes at once (by default 1 h, 6 h and 24 h). A scale's windows are aligned to
the Unix epoch and hop by ``step`` (``step`` = ``size``: tumbling). A window of a scale
goes through three moments of event time (the watermark):

- before its end, once the window before it is judged: with ``early`` (the default), each
  report counted into it *peeks* at it, and a count that already crosses alerts at once
  (only detectors whose decision can only rise with the count do this);
- ``end + grace``: it is *judged* for the first time, with the reports counted so far;
- until ``end + lateness``: a report that arrives for it *revises* it, and it is judged
  again with the revised count (an alert that results is marked late);
- ``end + lateness``: it is *final*: its count is learned into the baseline, once, and
  reports for it are counted as late.

Counts are kept once per key in buckets of the greatest common divisor of every scale's
size and step (an hour by default); each window's count is the sum of its buckets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

from pydantic import BaseModel, ConfigDict, Field, model_validator

from streams.detect.realert import Duration

__all__ = ["DEFAULT_SCALES", "Scale", "ScaleSpec", "bucket_of", "scales_from"]

HOUR = 3600.0


class ScaleSpec(BaseModel):
    """One time scale as a watchlist writes it: ``{size: 6h, step: 1h, lateness: 6h}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    size: Duration = Field(description="Window length (seconds, or 1h / 6h / 1d).")
    step: Duration | None = Field(
        default=None, description="Hop between window starts; unset: the size (tumbling)."
    )
    lateness: Duration | None = Field(
        default=None,
        description="How long after its end a window still takes reports and is judged "
        "again; unset: the size, but at least 4h and at most 12h.",
    )
    name: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9]+$",
        description="Names the scale in alerts; unset: the size, e.g. 6h or 1d.",
    )
    early: bool = Field(
        default=True,
        description="Alert as soon as the reports counted into a window cross, before it "
        "closes, rather than at its end plus grace.",
    )

    @model_validator(mode="after")
    def _sane(self) -> ScaleSpec:
        if self.size < 60 or self.size % 60:
            raise ValueError("a scale's size must be a whole number of minutes")
        step = self.size if self.step is None else self.step
        if step <= 0 or step > self.size or self.size % step:
            raise ValueError("a scale's step must divide its size")
        return self

    def build(self, grace: float) -> Scale:
        step = self.size if self.step is None else self.step
        lateness = self.lateness
        if lateness is None:
            lateness = min(max(self.size, 4 * HOUR), 12 * HOUR)
        return Scale(
            self.name or _name(self.size), self.size, step, max(lateness, grace), grace, self.early
        )


DEFAULT_SCALES: tuple[ScaleSpec, ...] = (
    ScaleSpec(size=HOUR),
    ScaleSpec(size=6 * HOUR, step=HOUR),
    ScaleSpec(size=24 * HOUR, step=HOUR),
)


@dataclass(frozen=True, slots=True)
class Scale:
    name: str
    size: float
    step: float
    lateness: float
    """Event-time seconds after its end that a window is still revised; at least ``grace``."""
    grace: float = 0.0
    """Event-time seconds after its end that a window is first judged."""
    early: bool = False
    """Whether a window is peeked at as reports are counted into it, to alert before it
    closes (``ScaleSpec.early``)."""

    def newest_start(self, ts: float) -> float:
        """Start of the newest window that holds instant ``ts``."""
        start = math.floor(ts / self.step) * self.step
        # ts / step can round up across an integer (a tiny negative ts): step back.
        return start - self.step if start > ts else start

    def oldest_start(self, ts: float) -> float:
        """Start of the oldest window that holds instant ``ts``."""
        return self.newest_start(ts) - (self.windows_per_instant - 1) * self.step

    @property
    def windows_per_instant(self) -> int:
        return round(self.size / self.step)

    def last_judged(self, watermark: float) -> float:
        """Start of the newest window a watermark has judged."""
        return math.floor((watermark - self.size - self.grace) / self.step) * self.step

    def last_final(self, watermark: float) -> float:
        """Start of the newest window a watermark has made final."""
        return math.floor((watermark - self.size - self.lateness) / self.step) * self.step

    def accepts(self, ts: float, watermark: float) -> bool:
        """Whether a report at ``ts`` still reaches a window that is not final."""
        return self.newest_start(ts) + self.size + self.lateness > watermark


def scales_from(specs: Sequence[ScaleSpec], grace: float) -> tuple[Scale, ...]:
    scales = tuple(sorted((s.build(grace) for s in specs), key=lambda s: s.size))
    names = [s.name for s in scales]
    if len(set(names)) != len(names) or len({s.size for s in scales}) != len(scales):
        raise ValueError(f"the scales of a signal need distinct sizes and names: {names}")
    return scales


def bucket_of(scales: Sequence[Scale]) -> float:
    """The bucket every window of these scales is made of: the gcd of sizes and steps."""
    seconds = reduce(math.gcd, (int(v) for s in scales for v in (s.size, s.step)))
    return float(seconds)


def _name(size: float) -> str:
    for unit, seconds in (("d", 86400), ("h", 3600), ("m", 60)):
        if size % seconds == 0:
            return f"{int(size // seconds)}{unit}"
    return f"{int(size)}s"
