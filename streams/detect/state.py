"""The compact per-key detection state kept in one changelog-backed table entry.

Only sums and capped lists live here, so an entry stays small however busy the key, and
a restart restores it from the changelog:

- ``buckets``: counts per bucket (an hour by default) for as long as a window of some
  time scale that holds the bucket can still be revised, with distinct publishers, the
  earliest few items as evidence and the newest item;
- ``scales``: per time scale, how far its windows are judged and final, which of the
  windows not yet final crossed, and each detector's provisional and final state;
- ``realert`` and ``burst``: the key's re-alert state and its open burst, shared by
  every scale, so one burst gives one alert and then updates;
- the latest item ids inside the dedup horizon and the reports inside the
  near-duplicate horizon.

An entry grows with the scales as follows: buckets span the largest scale's size plus
its lateness (36 hourly buckets for the default 24 h scale with 12 h of lateness, most of
them empty and absent for a quiet key), and each scale adds two states per detector
(about 75 numbers for ``seasonal`` with a daily period).

Each part is a slotted dataclass in memory and a JSON array or object in the entry
(``dumps``): arrays where a part repeats (buckets, stories, crossing marks), so that field
names are not stored again with every element. Detectors' own states and the re-alert
rules' states stay dicts: their shape is the detector's (``DetectorBase.initial``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from streams.detect.bursts import Burst
from streams.detect.detectors.base import Observation

__all__ = ["Bucket", "DetectorEntry", "KeyState", "Mark", "ScaleState", "Story"]

# Distinct publishers tracked exactly per bucket; past this the count saturates.
PUBLISHER_CAP = 1_000
# An evidence cap (``KeyState.evidence_cap``) grown back to this is no cap any more.
EVIDENCE_CAP_OFF = 64


@dataclass(slots=True)
class Bucket:
    count: int = 0
    publishers: list[str] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    importance: int | None = None
    """Highest importance among the bucket's items."""
    copies: int = 0
    """Near-duplicates of the bucket's reports, counted once (see ``KeyState.stories``)."""
    latest: dict[str, Any] | None = None
    """The newest item counted in the bucket."""

    def add(
        self, publisher: str | None, importance: int | None, evidence: dict[str, Any], limit: int
    ) -> None:
        self.count += 1
        if importance is not None and (self.importance is None or importance > self.importance):
            self.importance = importance
        if publisher and publisher not in self.publishers and len(self.publishers) < PUBLISHER_CAP:
            self.publishers.append(publisher)
        if self.latest is None or _order(evidence) > _order(self.latest):
            self.latest = evidence
        if len(self.evidence) < limit:
            self.evidence.append(evidence)
        elif _order(evidence) < _order(self.evidence[-1]):
            # Keep the earliest items: the first reports of a surge are the ones to read.
            self.evidence[-1] = evidence
        else:
            return
        self.evidence.sort(key=_order)


def _order(evidence: dict[str, Any]) -> tuple[str, str]:
    return evidence["published_at"], evidence["id"]


@dataclass(slots=True)
class DetectorEntry:
    """One detector's states for a key (and time scale), valid for the parameters whose
    fingerprint it carries: a changed watchlist restarts that detector's learning alone.

    Stored as ``{"p": fingerprint, "s": provisional, "f": final, "r": re-alert}`` with
    only the states it holds, so that an entry stays small.
    """

    fingerprint: str
    provisional: dict[str, Any] | None = None
    """The state judging windows as they close: has seen every judged window."""
    final: dict[str, Any] | None = None
    """The state that has learned every window no late report can change."""
    realert: dict[str, Any] | None = None
    """The re-alert rule's state, for count series closed in one pass (``close``)."""

    def judging(self) -> dict[str, Any]:
        """The provisional state, for the reads that need one kept."""
        if self.provisional is None:
            raise LookupError(f"detector {self.fingerprint} keeps no provisional state")
        return self.provisional

    def learning(self) -> dict[str, Any]:
        """The final state, for the reads that need one kept."""
        if self.final is None:
            raise LookupError(f"detector {self.fingerprint} keeps no final state")
        return self.final

    def rule(self) -> dict[str, Any]:
        """The re-alert rule's state, for count series closed in one pass."""
        if self.realert is None:
            raise LookupError(f"detector {self.fingerprint} keeps no re-alert state")
        return self.realert

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"p": self.fingerprint}
        if self.provisional is not None:
            out["s"] = self.provisional
        if self.final is not None:
            out["f"] = self.final
        if self.realert is not None:
            out["r"] = self.realert
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DetectorEntry:
        return cls(data["p"], data.get("s"), data.get("f"), data.get("r"))


@dataclass(slots=True)
class Story:
    """A report counted within the near-duplicate horizon, that later copies join.

    Stored as ``[fingerprint, at, first_id, outlets, bucket]``.
    """

    fingerprint: str
    """The hex MinHash of its text (``SignalHit.fingerprint``)."""
    at: float
    """Event time of the report."""
    first_id: str
    """The item id the report was counted under."""
    outlets: list[str]
    """Outlets that carried it, the first one's included (capped)."""
    bucket: float
    """Start of the bucket it was counted in."""

    def to_json(self) -> list[Any]:
        return [self.fingerprint, self.at, self.first_id, self.outlets, self.bucket]


@dataclass(slots=True)
class Mark:
    """A detector's crossing on one window not yet final, so that it alerts once.

    Stored as ``[start, detector]``, or ``[start, detector, level]`` for a window judged
    early at that severity.
    """

    start: float
    detector: str
    """The detector's label."""
    level: str | None = None

    def to_json(self) -> list[Any]:
        if self.level is None:
            return [self.start, self.detector]
        return [self.start, self.detector, self.level]


@dataclass(slots=True)
class ScaleState:
    judged: float
    """Start of the newest window judged; windows are first judged in order."""
    final: float
    """Start of the newest window learned into the final state; never after ``judged``."""
    dirty: float | None = None
    """Start of the oldest judged window a late report revised since the last advance."""
    crossed: list[Mark] = field(default_factory=list)
    """The crossings among windows not yet final."""
    detectors: dict[str, DetectorEntry] = field(default_factory=dict)
    """Per detector label, its states."""
    judged_as: dict[float, Observation] = field(default_factory=dict)
    """Window start → the observation each window with items was last judged on, until it
    is final: the baseline learns exactly that, whatever the buckets hold by then."""
    read: dict[float, Observation | None] = field(default_factory=dict)
    """Not stored: windows judged on the learned state, as read from their buckets then,
    to learn them without reading again; a report landing in one drops it."""
    bound: Any = None
    """Not stored: the detectors' learned states checked against the signal's detectors
    (``DetectorSuite.learned``), with the detectors they were checked against."""

    def to_json(self) -> list[Any]:
        judged_as = [
            [o.start, o.step, o.count, o.publishers, o.importance] for o in self.judged_as.values()
        ]
        detectors = {label: e.to_json() for label, e in self.detectors.items()}
        crossed = [mark.to_json() for mark in self.crossed]
        return [self.judged, self.final, self.dirty, crossed, detectors, judged_as]

    @classmethod
    def from_json(cls, data: list[Any]) -> ScaleState:
        judged, final, dirty, crossed, detectors, judged_as = data
        return cls(
            judged,
            final,
            dirty,
            [Mark(*mark) for mark in crossed],
            {label: DetectorEntry.from_json(e) for label, e in detectors.items()},
            {o[0]: Observation(*o) for o in judged_as},
        )


@dataclass(slots=True)
class KeyState:
    key: str
    signal_id: str
    region: str
    buckets: dict[float, Bucket] = field(default_factory=dict)
    scales: dict[str, ScaleState] = field(default_factory=dict)
    realert: dict[str, Any] = field(default_factory=dict)
    """Per detector, its re-alert rule's state: when a new burst may open."""
    burst: Burst | None = None
    """The key's current burst (see ``streams.detect.bursts``), until it ends."""
    seen: dict[str, float] = field(default_factory=dict)
    """Item id → event time, for ids inside the dedup horizon: the latest 500 delivered."""
    stories: list[Story] = field(default_factory=list)
    """Reports counted within the near-duplicate horizon, oldest first."""
    last_event: float = 0.0
    watermark: float = float("-inf")
    due: float | None = field(default=None, compare=False, repr=False)
    """Event time before which advancing changes nothing but the watermark (not stored:
    None makes the next advance look)."""
    evidence_cap: int | None = field(default=None, compare=False, repr=False)
    """Evidence items per bucket the entry was last cut to (``bounded``; not stored)."""
    wake: float | None = field(default=None, compare=False, repr=False)
    """Event time at which a watermark alone must next advance the key, at or after
    ``due``: when a window that may cross is judged, the buckets can all be dropped, or
    the idle key expires (not stored: None, not known)."""

    def dumps(self) -> bytes:
        # orjson returns its output buffer with the room it grew to (about 16 KB held for
        # a 1.5 KB entry, by tracemalloc): an entry lives as long as its key, so an exact
        # copy is kept. With 100,000 keys that is the difference between 0.9 GB and 0.2.
        return bytes(memoryview(self._encode()))

    def bounded(self, max_bytes: int) -> tuple[bytes, bool]:
        """The entry, with fewer evidence items per bucket where it would be larger than
        ``max_bytes``, and whether any were cut.

        Evidence is what alerts need least, and the only part cut: halved per bucket down
        to one (the earliest stay, as ``Bucket.add`` keeps them). Counts, detector states
        and the ids and reports kept for dedup are never cut: cutting them would change
        what is counted, and so the alerts, with the moments entries happen to be
        written. Each has a cap of its own (``SEEN_CAP``, ``STORY_CAP``), so an entry still
        past the bound with one evidence item per bucket is written as it is.

        A key over the bound once is most often over it at its next write too: the
        evidence limit it was cut to is applied again first (``evidence_cap``), so that
        such a write costs one encoding, not one per halving.
        """
        cut = False
        cap = self.evidence_cap
        if cap is not None and any(len(b.evidence) > cap for b in self.buckets.values()):
            for bucket in self.buckets.values():
                del bucket.evidence[cap:]
            cut = True
        data = self.dumps()
        if len(data) <= max_bytes:
            if cap is not None and len(data) < max_bytes // 4:
                self.evidence_cap = None if 2 * cap >= EVIDENCE_CAP_OFF else 2 * cap
            return data, cut
        limit = max((len(b.evidence) for b in self.buckets.values()), default=0)
        while len(data) > max_bytes and limit > 1:
            limit //= 2
            self.evidence_cap = limit
            for bucket in self.buckets.values():
                del bucket.evidence[limit:]
            data, cut = self.dumps(), True
        return data, cut

    def _encode(self) -> bytes:
        return orjson.dumps(
            {
                "v": 3,
                "key": self.key,
                "signal_id": self.signal_id,
                "region": self.region,
                # JSON object keys are strings; bucket starts are whole seconds in practice.
                "buckets": [
                    [start, b.count, b.publishers, b.evidence, b.importance, b.copies, b.latest]
                    for start, b in sorted(self.buckets.items())
                ],
                "scales": {name: s.to_json() for name, s in self.scales.items()},
                "realert": self.realert,
                "burst": None if self.burst is None else self.burst.to_json(),
                "seen": self.seen,
                "stories": [story.to_json() for story in self.stories],
                "last_event": self.last_event,
                "watermark": self.watermark if self.watermark != float("-inf") else None,
            }
        )

    @classmethod
    def loads(cls, data: bytes) -> KeyState:
        d = orjson.loads(data)
        version = d.get("v")
        if version in (1, 2):
            # Earlier versions held one window size's windows and detectors: the counts
            # carry over as buckets, the detectors start their learning again.
            d["buckets"] = [
                [*w[:6], None] if len(w) > 5 else [*w, None, 0, None] for w in d["windows"]
            ]
            d.update(scales={}, realert={}, burst=None, stories=d.get("stories", []))
        elif version != 3:
            raise ValueError(f"unknown key state version {version!r}")
        return cls(
            key=d["key"],
            signal_id=d["signal_id"],
            region=d["region"],
            buckets={s: Bucket(*rest) for s, *rest in d["buckets"]},
            scales={name: ScaleState.from_json(s) for name, s in d["scales"].items()},
            realert=d["realert"],
            burst=None if d["burst"] is None else Burst.from_json(d["burst"]),
            seen=d["seen"],
            stories=[Story(*story) for story in d["stories"]],
            last_event=d["last_event"],
            watermark=float("-inf") if d["watermark"] is None else d["watermark"],
        )
