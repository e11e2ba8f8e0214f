"""The compact per-key detection state kept in one changelog-backed table entry.

Only sums and capped lists live here (counts, distinct publishers, a few evidence items
per open window, the detector's floats, the latest item ids inside the dedup horizon), so an
entry stays small however busy the key, and a restart restores it from the changelog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["KeyState", "WindowAgg"]

# Distinct publishers tracked exactly per window; past this the count saturates.
PUBLISHER_CAP = 1_000


@dataclass(slots=True)
class WindowAgg:
    count: int = 0
    publishers: list[str] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    importance: int | None = None
    """Highest importance among the window's items."""
    copies: int = 0
    """Near-duplicates of the window's reports, counted once (see ``KeyState.stories``)."""

    def add(
        self, publisher: str | None, importance: int | None, evidence: dict[str, Any], limit: int
    ) -> None:
        evidence = {**evidence, "outlets": 1}  # hopping windows each keep their own
        self.count += 1
        if importance is not None and (self.importance is None or importance > self.importance):
            self.importance = importance
        if publisher and publisher not in self.publishers and len(self.publishers) < PUBLISHER_CAP:
            self.publishers.append(publisher)
        if len(self.evidence) < limit:
            self.evidence.append(evidence)
        elif evidence["published_at"] < self.evidence[-1]["published_at"]:
            # Keep the earliest items: the first reports of a surge are the ones to read.
            self.evidence[-1] = evidence
        else:
            return
        self.evidence.sort(key=lambda e: (e["published_at"], e["id"]))


@dataclass(slots=True)
class KeyState:
    key: str
    signal_id: str
    region: str
    windows: dict[float, WindowAgg] = field(default_factory=dict)
    closed_through: float | None = None
    """Start of the newest closed window; events for it or older windows are late."""
    seen: dict[str, float] = field(default_factory=dict)
    """Item id → event time, for ids inside the dedup horizon: the latest 500 delivered."""
    stories: list[list[Any]] = field(default_factory=list)
    """Reports counted within the near-duplicate horizon, oldest first:
    ``[fingerprint, event time, first item id, outlets seen]``."""
    detectors: dict[str, Any] = field(default_factory=dict)
    """Per detector label: its parameters' fingerprint, its state, its re-alert state."""
    last_event: float = 0.0
    watermark: float = float("-inf")

    def dumps(self) -> bytes:
        return orjson.dumps(
            {
                "v": 2,
                "key": self.key,
                "signal_id": self.signal_id,
                "region": self.region,
                # JSON object keys are strings; window starts are whole seconds in practice.
                "windows": [
                    [start, w.count, w.publishers, w.evidence, w.importance, w.copies]
                    for start, w in sorted(self.windows.items())
                ],
                "closed_through": self.closed_through,
                "seen": self.seen,
                "stories": self.stories,
                "detectors": self.detectors,
                "last_event": self.last_event,
                "watermark": self.watermark if self.watermark != float("-inf") else None,
            }
        )

    @classmethod
    def loads(cls, data: bytes) -> KeyState:
        d = orjson.loads(data)
        version = d.get("v")
        if version == 1:
            # v1 held a single detector's floats; detectors restart their learning.
            del d["detector"]
            d["detectors"] = {}
            d["windows"] = [[*w, None] for w in d["windows"]]
            d["stories"] = []
        elif version != 2:
            raise ValueError(f"unknown key state version {version!r}")
        return cls(
            key=d["key"],
            signal_id=d["signal_id"],
            region=d["region"],
            windows={s: WindowAgg(*rest) for s, *rest in d["windows"]},
            closed_through=d["closed_through"],
            seen=d["seen"],
            stories=d["stories"],
            detectors=d["detectors"],
            last_event=d["last_event"],
            watermark=float("-inf") if d["watermark"] is None else d["watermark"],
        )
