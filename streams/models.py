"""The records that cross topic boundaries: the contracts of ``schemas/``.

These pydantic models are the source of truth. ``watchfloor schemas export`` writes their
JSON Schema into ``schemas/``; downstream consumers validate against those files.
Timestamps travel as RFC 3339 strings and are always timezone-aware.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

__all__ = [
    "Alert",
    "DeadLetter",
    "DetectorInfo",
    "Evidence",
    "KafkaRecord",
    "RawItem",
    "ReportRef",
    "SignalHit",
    "SignalRecord",
    "WatermarkTick",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
ItemId = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class KafkaRecord(Protocol):
    """What a dead letter needs of a consumed record: aiokafka's and Faust's both have it."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


class RawItem(BaseModel):
    """One OSINT item as it arrives on ``osint.items.raw``. Unknown fields are kept."""

    # Most values are one item's own (ids, titles, bodies, URLs): caching them, not only the
    # keys, costs the ingest hot path more than it saves.
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, cache_strings="keys")

    id: ItemId = Field(description="Stable identifier of the item at its source.")
    title: NonEmpty = Field(max_length=2_000)
    body: str = Field(default="", max_length=1_000_000)
    published_at: AwareDatetime = Field(description="Event time, RFC 3339 with offset.")
    deck: str | None = Field(default=None, max_length=10_000)
    region: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)
    importance: int | None = Field(default=None, ge=1, le=10)
    sources: list[str] = Field(default_factory=list, max_length=200)
    url: str | None = Field(default=None, max_length=4_000)
    publisher: str | None = Field(default=None, max_length=500)
    language: str | None = Field(default=None, max_length=35, description="BCP 47 tag.")

    # On the ingest hot path decode_item does these four validators' work in other ways
    # (streams/sources/decode.py): a change to what they refuse needs a change there too.
    @field_validator(
        "id", "title", "body", "deck", "region", "category", "url", "publisher", "language"
    )
    @classmethod
    def _no_control_characters(cls, value: str | None) -> str | None:
        # Tabs and line breaks are text; NUL, bell or escape are not, and break consumers.
        if value is not None and _CONTROL.search(value):
            raise ValueError("control characters are not allowed (tab and line breaks are)")
        return value

    @field_validator("sources")
    @classmethod
    def _no_control_characters_in_sources(cls, value: list[str]) -> list[str]:
        for source in value:
            cls._no_control_characters(source)
        return value

    @field_validator("published_at", mode="before")
    @classmethod
    def _a_date_not_a_number(cls, value: object) -> object:
        # pydantic reads a number as Unix seconds, or as milliseconds past 2e10: a number
        # is ambiguous, and a wrong guess puts the report decades off without a word.
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError("must be an RFC 3339 date-time string, not a number")
        return value

    @field_validator("published_at")
    @classmethod
    def _a_date_in_utc(cls, value: datetime) -> datetime:
        # Event time is kept in UTC; year 1 at +01:00 is year 0 there, which no datetime
        # holds, and converting it raised inside the worker for every retry of the batch.
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("outside the years 1 to 9999 once converted to UTC") from None
        return value


class SignalHit(BaseModel):
    """A raw item matched a watched signal. Keyed on ``osint.signals`` by ``key``."""

    kind: Literal["hit"] = "hit"
    key: NonEmpty = Field(description="`signal_id|region`: the unit of counting.")
    signal_id: NonEmpty
    region: NonEmpty = Field(description="Region slug of the item, `unknown` when absent.")
    item_id: ItemId
    title: str
    url: str | None = None
    publisher: str | None = None
    published_at: AwareDatetime
    importance: int | None = Field(default=None, ge=1, le=10)
    matched_terms: list[str] = Field(description="Watchlist terms found in the item.")
    sentence: str = Field(
        default="", max_length=1_000, description="Where the signal's terms met in the item."
    )
    fingerprint: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{128}$",
        description="b-bit MinHash of the item's text, to count copies of one story once.",
    )
    ingested_at: AwareDatetime = Field(description="Broker time of the raw record.")
    watermark: AwareDatetime = Field(
        description="Highest published_at ingest had seen in the item's raw partition when "
        "it matched this item."
    )
    source: int = Field(
        default=0, ge=0, description="Raw partition the item was read from: its event-time source."
    )
    watchlist_version: str


class WatermarkTick(BaseModel):
    """Event-time progress, sent by ingest to every partition of ``osint.signals``.

    Signal hits are rare; without ticks a window would close only when the next hit for
    its partition arrived. A tick carries the highest ``published_at`` ingest has seen in
    one raw partition (its ``source``); detection takes the least over the live sources.
    """

    kind: Literal["watermark"] = "watermark"
    watermark: AwareDatetime
    source: int = Field(default=0, ge=0, description="Raw partition this progress is of.")


SignalRecord = Annotated[SignalHit | WatermarkTick, Field(discriminator="kind")]


class Evidence(BaseModel):
    """One item behind an alert, enough for an analyst to open it."""

    id: ItemId
    title: str
    url: str | None = None
    source: str | None = Field(default=None, description="Publisher of the item.")
    published_at: AwareDatetime
    matched_terms: list[str]
    sentence: str = Field(default="", description="Where the signal's terms met in the item.")
    outlets: int = Field(
        default=1, ge=1, description="Outlets seen carrying this report (itself and copies)."
    )


class DetectorInfo(BaseModel):
    name: NonEmpty = Field(description="The detector's name on its signal (its kind unless named).")
    kind: NonEmpty = Field(description="Which detector of the library decided.")
    params: dict[str, float | int | str | bool]


class ReportRef(BaseModel):
    """One report of a burst, named so that an analyst can open it."""

    id: ItemId
    title: str
    url: str | None = None
    source: str | None = Field(default=None, description="Publisher of the item.")
    published_at: AwareDatetime


class Alert(BaseModel):
    """One alert of a burst on ``osint.alerts``: its first crossing, or an update of it.

    A key's burst opens when a window of any time scale crosses its detector's bar; the
    same burst crossing the bar at another scale, crossing it more severely, or going on
    past its re-alert interval, goes out as an update with the same ``burst_id``. Other
    crossings of an open burst are merged.
    """

    alert_id: NonEmpty = Field(
        description="Stable: from the burst and what the alert reports (the scale the "
        "burst crossed at, the severity it rose to, the reminder's number)."
    )
    burst_id: NonEmpty = Field(
        description="Shared by every alert of one burst: from the key and the end of the "
        "window whose crossing opened it."
    )
    update: Literal["opened", "scale", "escalation", "repeat"] = Field(
        description="opened: the burst's first alert; scale: the burst crossed the bar at "
        "a time scale it had not crossed yet; escalation: its severity rose; repeat: a "
        "reminder that the burst goes on, as its detector's realert rule allows."
    )
    signal_id: NonEmpty
    key: NonEmpty = Field(
        description="The key whose window crossed: `signal_id|region` (see `region`), or "
        "`signal_id|publisher` for signals keyed by publisher."
    )
    region: NonEmpty = Field(
        description="Region slug of the reports, `unknown` when they have none; `other` "
        "for those counted together once the signal held WATCHFLOOR_MAX_KEYS_PER_SIGNAL "
        "keys (the key is then `signal_id|other` or `signal_id|other-N`, one per signals "
        "partition)."
    )
    scale: NonEmpty = Field(description="The time scale whose window crossed, e.g. 1h, 6h, 1d.")
    window_start: AwareDatetime
    window_end: AwareDatetime
    early: bool = Field(
        default=False,
        description="The window crossed before it closed, on the reports counted into it "
        "so far (its scale judges early); window_end is then still to come.",
    )
    late: bool = Field(
        default=False,
        description="The window crossed only when reports that came in after it was first "
        "judged revised its count.",
    )
    late_by: float = Field(
        default=0.0,
        ge=0,
        description="Seconds of event time between the window's first judgment and this "
        "revision (0 unless late).",
    )
    decided_at: AwareDatetime | None = Field(
        default=None,
        description="Event time (the watermark of the key's partition) when the crossing "
        "was seen: before window_end for an early alert, at window_end plus grace for one "
        "judged on time, later for a late one.",
    )
    counts: dict[str, int] = Field(
        default_factory=dict,
        description="Reports counted per time scale in the window of that scale ending "
        "with this one.",
    )
    first_report: ReportRef | None = Field(
        default=None, description="The earliest report of the burst's crossing windows."
    )
    latest_report: ReportRef | None = Field(
        default=None, description="The newest report counted in the burst so far."
    )
    count: int = Field(
        ge=0, description="Distinct reports in the window: copies of one story count once."
    )
    copies: int = Field(
        default=0, ge=0, description="Copies of the window's reports carried by other outlets."
    )
    baseline: float = Field(ge=0, description="Expected count learned from earlier windows.")
    score: float
    severity: Literal["info", "warning", "critical"] = Field(
        description="From the score's strength, publisher diversity and importance; "
        "see docs/detection.md."
    )
    publishers: int = Field(ge=0, description="Distinct publishers in the window.")
    importance: int | None = Field(
        default=None, ge=1, le=10, description="Highest importance among the window's items."
    )
    detector: DetectorInfo
    evidence: list[Evidence]
    generated_at: AwareDatetime
    watchlist_version: str


DeadLetterReason = Literal[
    "invalid_utf8",
    "invalid_json",
    "not_an_object",
    "validation_failed",
    "too_large",
    "future_timestamp",
]


RESENT_HEADER = "watchfloor-resent-from"
"""Header of a raw record sent again from the dead-letter topic (``watchfloor deadletters
--resend``): ``<partition>:<offset>`` of its dead letter."""

# Kept of an original in a dead letter: base64 makes it 4/3 larger, and the dead letter
# must fit in one Kafka message (1 MB by default) with room to spare.
ORIGINAL_LIMIT = 262_144


class DeadLetter(BaseModel):
    """A record the pipeline could not process, with everything needed to replay it."""

    reason: DeadLetterReason
    error: str = Field(description="Human-readable cause, naming the field when there is one.")
    source: Literal["kafka", "http", "file"] = Field(
        default="kafka",
        description="Where the record came in: a raw topic, POST /v1/items, or a replayed "
        "file (records too large for the raw topic).",
    )
    topic: str = Field(description="The topic read, or the HTTP path posted to.")
    partition: int | None = Field(default=None, ge=0, description="Kafka records only.")
    offset: int | None = Field(default=None, ge=0, description="Kafka records only.")
    key_b64: str | None = Field(default=None, description="Original key, base64.")
    original_b64: str = Field(description="Original value bytes, base64.")
    truncated: bool = Field(
        default=False,
        description="The original was longer than 256 KiB and only its start is kept, so "
        "that the dead letter itself fits in a Kafka message.",
    )
    failed_at: datetime

    @classmethod
    def of_record(cls, reason: DeadLetterReason, error: str, record: KafkaRecord) -> DeadLetter:
        """The dead letter of a record read from a Kafka topic, with its coordinates."""
        return cls.build(
            reason,
            error,
            record.value,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
        )

    @classmethod
    def build(
        cls,
        reason: DeadLetterReason,
        error: str,
        original: bytes | None,
        *,
        source: Literal["kafka", "http", "file"] = "kafka",
        topic: str,
        partition: int | None = None,
        offset: int | None = None,
        key: bytes | None = None,
    ) -> DeadLetter:
        original = original or b""
        truncated = len(original) > ORIGINAL_LIMIT
        return cls(
            reason=reason,
            error=error,
            source=source,
            topic=topic,
            partition=partition,
            offset=offset,
            key_b64=None if key is None else base64.b64encode(key).decode(),
            original_b64=base64.b64encode(original[:ORIGINAL_LIMIT]).decode(),
            truncated=truncated,
            failed_at=datetime.now(UTC),
        )


def model_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of each topic's records, by file name in ``schemas/``."""
    from pydantic import TypeAdapter

    signal_schema = TypeAdapter(SignalRecord).json_schema()
    signal_schema["title"] = "SignalRecord"
    return {
        "raw-item.schema.json": RawItem.model_json_schema(),
        "signal-record.schema.json": signal_schema,
        "alert.schema.json": Alert.model_json_schema(),
        "dead-letter.schema.json": DeadLetter.model_json_schema(),
    }
