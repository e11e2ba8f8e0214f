"""Fault 5: hostile input at the raw topic and at ``POST /v1/items``.

Records built to hurt a parser or a store (invalid UTF-8, nesting 100,000 deep, strings
and bodies near a megabyte, wrong types, impossible dates, control characters, NaN, and
a flood of one key) are mixed into the fault feed. The worker must keep running, dead-
letter each refused record with its reason, process every valid one (the alerts are those
of an offline run of the same records), keep its memory bounded and most of its
throughput. Memory and throughput are measured against a clean run of the same feed in
the same scenario, on the same broker and machine.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import SecretStr

from streams.cli.replay import producer_for
from streams.models import ORIGINAL_LIMIT, DeadLetterReason, RawItem
from streams.pipeline.agents.http_items import PATH
from streams.pipeline.topics import ensure_topics
from streams.settings import Settings
from streams.signals.matcher import Matcher
from streams.signals.watchlist import load_watchlist
from streams.sources.decode import MAX_RECORD_BYTES, Rejection, decode_item
from tests.support.faults.accounting import FaultReport, read_values, topic_position
from tests.support.faults.feed import fault_feed
from tests.support.faults.scenarios import RECEIVED, Run
from tests.support.worker_process import (
    WorkerProcess,
    isolated_settings,
    post_items,
    rebalanced,
    total,
)

__all__ = [
    "BURST",
    "FLOOD",
    "RSS_ALLOWANCE_MIB",
    "Hostile",
    "Post",
    "burst_records",
    "flood_records",
    "hostile_input",
    "hostile_mix",
    "hostile_posts",
    "hostile_records",
    "last_report",
]

# Dated at the feed's start: a valid one never moves event time, so never closes a window
# early, and the feed's own alerts stay what they are.
_WHEN = "2026-05-04T00:00:00Z"
FLOOD = 2_500
"""Items in each flood of one key. 2,000 distinct ids of 512 characters are more than a
Kafka record holds, which is what a key's state once grew to."""
BURST = 200
"""Records of a megabyte sent in a row, 200 MB: dead-lettered at volume."""
RSS_ALLOWANCE_MIB = 64.0
"""How far the hostile run's peak memory may rise above the clean run's, beyond records
that may be buffered whole.

Among the mixed feed, hostile records come one every hundred or so: the worker holds a few
at a time, in a few forms (bytes, parsed text, a dead letter), plus one HTTP body of at most
1 MiB. Measured on a 2-core machine over a clean peak of 76 MiB: +18 MiB from the raw
topic, +8 MiB over HTTP, +22 to +26 MiB with both; 64 MiB leaves room for a busier machine.

A burst is another matter: Faust buffers up to 4,096 fetched records per stream
(``stream_buffer_maxsize``, a count, not bytes), so a burst of megabyte records may be held
whole for a moment when processing falls behind. The bound after the burst adds its size:
what must not happen is more than that (copies of each record, dead letters kept). Bursts
of 100, 200, 300 and 1,000 one-megabyte records measured 147, 166 to 198, 164 and 155 MiB:
flat in the volume."""
_HITS = "watchfloor_signal_hits_total"
# Every hit detection takes ends as one of these.
_OUTCOMES = (
    "watchfloor_hits_counted_total",
    "watchfloor_duplicates_dropped_total",
    "watchfloor_syndicated_copies_total",
    "watchfloor_late_events_total",
)


@dataclass(frozen=True)
class Hostile:
    """One hostile record and what must become of it."""

    name: str
    value: bytes | None
    reason: DeadLetterReason | None
    """Why ingest must dead-letter it; ``None``: valid by the contract despite its looks,
    so it must be processed like any item."""
    error: str = ""
    """Part of the dead letter's error: the cause, and the field when there is one."""
    http_reason: DeadLetterReason | None = None
    """The reason ``POST /v1/items`` gives when it differs from ingest's."""
    key: bytes | None = None
    """Kafka needs one for a record without a value (a tombstone)."""


@dataclass(frozen=True)
class Post:
    """One request to ``POST /v1/items`` and what must come of it."""

    name: str
    body: bytes
    status: int
    letters: list[tuple[bytes, DeadLetterReason]] = field(default_factory=list)
    """(original, reason) of each dead letter the request must leave, in item order."""
    token: bool = True


def _item(**fields: Any) -> bytes:
    return orjson.dumps({"id": "h", "title": "Hostile input", "published_at": _WHEN, **fields})


def _sized(size: int, name: str, **fields: Any) -> bytes:
    """An item whose field ``name`` pads the whole record to exactly ``size`` bytes."""
    bare = len(_item(**fields, **{name: ""}))
    return _item(**fields, **{name: "x" * (size - bare)})


def _raw(fields: bytes) -> bytes:
    """An item from JSON text that orjson would not write (NaN, bad escapes)."""
    return b'{"id":"h","title":"Hostile input","published_at":"%s",%s}' % (_WHEN.encode(), fields)


def hostile_records(report: bytes) -> list[Hostile]:
    """The single hostile records: deterministic, each case named, most refused with a
    known reason. ``report`` is a signal report of the feed: the cases built from it reach
    matching and detection, not only decode."""
    deep = 100_000
    at_limit = MAX_RECORD_BYTES
    # Re-dated to the feed's start, like every valid case, so as not to move event time.
    base = {**orjson.loads(report), "published_at": _WHEN}
    text = str(base["body"]) + " "
    bare = len(orjson.dumps({**base, "id": "h-big-valid", "body": ""}))
    body = (text * (at_limit // len(text) + 1))[: at_limit - bare]
    big_body = orjson.dumps({**base, "id": "h-big-valid", "body": body})
    return [
        # First on the topic, before any good record. A signal report: year 0 in UTC once
        # crashed the worker where its hit is made.
        Hostile(
            "year 1 east of UTC: year 0 in UTC",
            orjson.dumps(
                {**base, "id": "h-year-1-east", "published_at": "0001-01-01T00:00:00+01:00"}
            ),
            "validation_failed",
            "published_at: Value error, outside the years 1 to 9999",
        ),
        Hostile("tombstone (no value)", None, "invalid_json", "empty record", key=b"h-tombstone"),
        Hostile("empty value", b"", "invalid_json", "empty record"),
        Hostile(
            "invalid UTF-8",
            b'{"id":"h-utf8","title":"caf\xe9 \xff\xfe","published_at":"2026-05-04T00:00:00Z"}',
            "invalid_utf8",
            "invalid UTF-8 at byte 27",
        ),
        Hostile(
            "UTF-16 surrogate written as UTF-8",
            b'{"id":"h-cesu","title":"\xed\xa0\x80","published_at":"2026-05-04T00:00:00Z"}',
            "invalid_utf8",
            "invalid UTF-8",
        ),
        Hostile(
            "lone surrogate escape",
            _raw(b'"deck":"\\udc00"'),
            "invalid_json",
            "surrogate",
        ),
        Hostile(
            "arrays nested 100,000 deep",
            _raw(b'"x":' + b"[" * deep + b"]" * deep),
            "invalid_json",
            "recursion limit",
        ),
        Hostile(
            "objects nested 100,000 deep",
            b'{"a":' * deep + b"1" + b"}" * deep,
            "invalid_json",
            "recursion limit",
        ),
        Hostile(
            "a 900 kB title",
            _sized(at_limit, "title", id="h-long-title"),
            "validation_failed",
            "title: String should have at most 2000 characters",
        ),
        Hostile(
            "a megabyte body one byte over the record limit",
            _sized(at_limit + 1, "body", id="h-body-over"),
            "too_large",
            f"record of {at_limit + 1} bytes exceeds {at_limit}",
        ),
        Hostile(
            "a megabyte body",
            _sized(1_000_000, "body", id="h-body-megabyte"),
            "too_large",
            "exceeds",
        ),
        Hostile(
            "a body of 900 kB, just under the record limit",
            big_body,
            None,
        ),
        Hostile(
            "id an object",
            _item(id={"$ne": None}),
            "validation_failed",
            "id: Input should be a valid string",
        ),
        Hostile(
            "title a number",
            _item(id="h-title-number", title=12),
            "validation_failed",
            "title: Input should be a valid string",
        ),
        Hostile(
            "published_at a boolean",
            _item(id="h-date-bool", published_at=True),
            "validation_failed",
            "published_at: Input should be a valid datetime",
        ),
        Hostile(
            "importance a word",
            _item(id="h-importance-word", importance="high"),
            "validation_failed",
            "importance: Input should be a valid integer",
        ),
        Hostile(
            "sources a string",
            _item(id="h-sources-str", sources="reuters"),
            "validation_failed",
            "sources: Input should be a valid array",
        ),
        Hostile("a JSON array of numbers", b"[1, 2, 3]", "not_an_object", "JSON object"),
        Hostile("a JSON string", b'"an item"', "not_an_object", "JSON object"),
        Hostile("JSON null", b"null", "not_an_object", "JSON object"),
        Hostile(
            "year 1 in UTC",
            orjson.dumps({**base, "id": "h-year-1", "published_at": "0001-01-01T00:00:00Z"}),
            None,
        ),
        Hostile(
            "year 9999",
            _item(id="h-year-9999", published_at="9999-12-31T23:59:59Z"),
            "future_timestamp",
            "after the record was received",
        ),
        Hostile(
            "year 9999 west of UTC: year 10000 in UTC",
            _item(id="h-year-9999-west", published_at="9999-12-31T23:59:59-12:00"),
            "validation_failed",
            "published_at: Value error, outside the years 1 to 9999",
        ),
        Hostile(
            "far future",
            _item(id="h-2100", published_at="2100-01-01T00:00:00Z"),
            "future_timestamp",
            "after the record was received",
        ),
        Hostile(
            "year 10000",
            _item(id="h-year-10000", published_at="10000-01-01T00:00:00Z"),
            "validation_failed",
            "published_at: Input should be a valid datetime",
        ),
        Hostile(
            "30 February",
            _item(id="h-feb-30", published_at="2026-02-30T00:00:00Z"),
            "validation_failed",
            "day value is outside expected range",
        ),
        Hostile(
            "a date without its zone",
            _item(id="h-no-zone", published_at="2026-05-04T00:00:00"),
            "validation_failed",
            "published_at: Input should have timezone info",
        ),
        Hostile(
            "a date as 1e20 seconds",
            _item(id="h-date-1e20", published_at=1e20),
            "validation_failed",
            "not a number",
        ),
        Hostile(
            "NUL in the title",
            _item(id="h-nul", title="a\x00b"),
            "validation_failed",
            "title: Value error, control characters",
        ),
        Hostile(
            "terminal escape in the id",
            _item(id="h-\x1b[31mred", title="t"),
            "validation_failed",
            "id: Value error, control characters",
        ),
        Hostile(
            "bell in the publisher",
            _item(id="h-bell", publisher="\x07"),
            "validation_failed",
            "publisher: Value error, control characters",
        ),
        Hostile(
            "a raw NUL byte inside a string",
            b'{"id":"h-raw-nul","title":"a\x00b","published_at":"2026-05-04T00:00:00Z"}',
            "invalid_json",
            "control character",
        ),
        # The raw topic's parser reads NaN and Infinity; orjson behind the HTTP endpoint
        # does not: they are not JSON.
        Hostile(
            "NaN importance",
            _raw(b'"importance":NaN'),
            "validation_failed",
            "importance: Input should be a finite number",
            http_reason="invalid_json",
        ),
        Hostile(
            "Infinity importance",
            _raw(b'"importance":-Infinity'),
            "validation_failed",
            "importance: Input should be a finite number",
            http_reason="invalid_json",
        ),
        Hostile("NaN in an unknown field", _raw(b'"score":NaN'), None, http_reason="invalid_json"),
        Hostile(
            "a 5,000-digit number",
            _raw(b'"importance":' + b"9" * 5_000),
            "invalid_json",
            "number out of range",
        ),
        Hostile(
            "a byte-order mark",
            b"\xef\xbb\xbf" + _item(id="h-bom"),
            "invalid_json",
            "expected value",
        ),
        Hostile(
            "two items in one record",
            _item(id="h-two-a") + _item(id="h-two-b"),
            "invalid_json",
            "trailing characters",
        ),
    ]


def flood_records(report: bytes, when: str, n: int = FLOOD) -> list[Hostile]:
    """A flood of one key: ``report`` delivered ``n`` times over, then ``n`` copies of it
    under distinct ids of the longest length the contract allows, dated ``when``.

    Dated at the feed's last event time, the copies land in windows still open, so every
    one of them reaches the key's state (an item for a closed window is only late).
    """
    base = orjson.loads(report)
    copies = [
        orjson.dumps({**base, "id": f"h-flood-{k:06d}".ljust(512, "x"), "published_at": when})
        for k in range(n)
    ]
    return [Hostile("one report redelivered", report, None)] * n + [
        Hostile("one key flooded with copies", copy, None) for copy in copies
    ]


def burst_records(n: int = BURST) -> list[Hostile]:
    """``n`` records of a megabyte in a row, each over the record limit: what a stuck or
    hostile producer sends, and what memory must not follow."""
    value = _sized(1_000_000, "body", id="h-burst")
    return [Hostile("a burst of megabyte records", value, "too_large", "exceeds")] * n


def last_report(feed: Sequence[bytes], settings: Settings) -> tuple[bytes, str]:
    """The feed's last signal report, and the latest ``published_at`` of the feed's items
    (where its event time ends)."""
    matcher = Matcher(load_watchlist(settings.watchlist))
    now, ahead = time.time(), settings.max_event_ahead
    items = [(line, decode_item(line, received_at=now, max_ahead=ahead)) for line in feed]
    valid = [(line, item) for line, item in items if isinstance(item, RawItem)]
    reports = [line for line, item in valid if matcher.match(item)]
    if not reports:
        raise LookupError("the feed has no signal report")
    latest = max(item.published_at for _, item in valid)
    return reports[-1], latest.isoformat().replace("+00:00", "Z")


def hostile_mix(feed: Sequence[bytes], hostile: Sequence[Hostile]) -> list[Hostile | bytes]:
    """The feed with the hostile records spread evenly among it, the first before any feed
    record: the first item of a partition sets its event time from nothing."""
    at: dict[int, list[Hostile]] = {}
    for n, record in enumerate(hostile):
        at.setdefault(n * len(feed) // len(hostile), []).append(record)
    out: list[Hostile | bytes] = []
    for n, line in enumerate(feed):
        out += at.get(n, [])
        out.append(line)
    return out


def hostile_posts(hostile: Sequence[Hostile], max_body: int) -> list[Post]:
    """Every refused record posted on its own, a few in one array, and the HTTP-only cases:
    a body over ``max_body`` and a request without the token (neither is read, so neither
    leaves a dead letter)."""
    posts = []
    for h in hostile:
        reason = h.http_reason or h.reason
        # Valid items are left out: accepted, they would reach the raw topic at a moment
        # no one can predict, and the offline run could not know where.
        if reason is not None and h.value is not None and len(h.value) <= max_body:
            posts.append(Post(h.name, h.value, 400, _letters(h.value, reason)))
    typed = [h for h in hostile if h.reason == "validation_failed" and _parses(h.value)]
    body = b"[" + b",".join(h.value or b"" for h in typed) + b"]"
    letters = [letter for h in typed for letter in _letters(h.value, "validation_failed")]
    posts.append(Post("the wrongly typed items in one array", body, 400, letters))
    posts.append(Post("a body over the limit", _sized(max_body + 1, "body", id="h-http"), 413))
    posts.append(Post("no token", _item(id="h-no-token"), 401, token=False))
    return posts


def _parses(value: bytes | None) -> bool:
    try:
        return isinstance(orjson.loads(value or b""), dict)
    except orjson.JSONDecodeError:
        return False


def _letters(body: bytes | None, reason: DeadLetterReason) -> list[tuple[bytes, DeadLetterReason]]:
    """The dead letters a body refused over HTTP leaves: the body itself when it is not
    JSON (or not an object or array), else each item as the endpoint re-encodes it."""
    body = body or b""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return [(body, reason)]
    if isinstance(data, dict):
        return [(orjson.dumps(data), reason)]
    if isinstance(data, list):
        return [(orjson.dumps(entry), reason) for entry in data]
    return [(body, reason)]


# --- the scenario ---------------------------------------------------------------------------


@dataclass
class _Phase:
    """One timed part of a run: how long until the worker had read every raw record sent,
    the worker's peak memory so far, where the records landed and the HTTP answers."""

    seconds: float
    rss_mib: float
    offsets: list[tuple[int, int]]
    answers: list[tuple[int, dict[str, Any]]]


def hostile_input(
    bootstrap: str, workdir: Path, *, flood: int = FLOOD, burst: int = BURST, **overrides: Any
) -> FaultReport:
    """Fault 5: hostile records among the feed on the raw topic and over HTTP, then a flood
    of one key, then a burst of megabyte records.

    A clean run of the feed alone comes first, with a worker of its own: its peak memory
    and its rate of good records are what the hostile run is measured against. The flood
    and the burst follow once the mixed feed has been read, timed on their own, so that the
    rate of the feed's good records measures what hostile records among them cost, not
    thousands of valid hits or 200 MB. Figures go to ``figures`` and ``notes``; a record or
    request whose fate is not the expected one goes to ``unexpected``.
    """
    feed = fault_feed()
    clean = Run(
        "hostile-baseline",
        isolated_settings(bootstrap, "clean", batch_within=0.1, **overrides),
        workdir,
        lines=feed,
    )
    try:
        baseline = _timed(clean, clean.start_worker(), _keyed(feed))
        clean_report = clean.finish()
    finally:
        clean.stop()

    token = secrets.token_urlsafe(24)
    settings = isolated_settings(
        bootstrap, "hostile", batch_within=0.1, http_token=SecretStr(token), **overrides
    )
    report_line, last = last_report(feed, settings)
    hostile = hostile_records(report_line)
    mix = hostile_mix(feed, hostile)
    posts = hostile_posts(hostile, settings.http_max_body)
    floods = flood_records(report_line, last, flood)
    bursts = burst_records(burst)
    sent = [*mix, *floods, *bursts]
    # Offline, a tombstone and an empty value decode alike: both are an empty record.
    run = Run("hostile-input", settings, workdir, lines=[v or b"" for _, v in _keyed(sent)])
    try:
        worker = run.start_worker()
        mixed = _timed(run, worker, _keyed(mix), posts, token)
        flooded = _timed(run, worker, _keyed(floods))
        burst_out = _timed(run, worker, _keyed(bursts))
        report = run.finish()
        # Processed means through detection too: every signal record committed by the group.
        run.wait("for detection to commit every signal record", lambda: _detected(run), 120)
        worker.check_alive()  # alive at the end, after all of it
    finally:
        run.stop()

    offsets = mixed.offsets + flooded.offsets + burst_out.offsets
    report.unexpected += _check_letters(settings, sent, offsets, posts, mixed.answers)
    if not clean_report.ok:
        report.unexpected.append(f"the clean run was not whole: {clean_report}")
    good = clean.expected.ingested
    figures = {
        "clean_rss_mib": baseline.rss_mib,
        "mixed_rss_mib": mixed.rss_mib,
        "flood_rss_mib": flooded.rss_mib,
        "hostile_rss_mib": burst_out.rss_mib,
        "rss_ratio": burst_out.rss_mib / baseline.rss_mib,
        "mixed_rss_bound_mib": baseline.rss_mib + RSS_ALLOWANCE_MIB,
        "rss_bound_mib": baseline.rss_mib + RSS_ALLOWANCE_MIB + _mib(bursts),
        "clean_good_per_s": good / baseline.seconds,
        "mixed_good_per_s": good / mixed.seconds,
        "throughput_ratio": baseline.seconds / mixed.seconds,
        "flood_per_s": len(floods) / flooded.seconds,
        "burst_mib_per_s": _mib(bursts) / burst_out.seconds,
        "refused_records": sum(h.reason is not None for h in hostile),
        "valid_hostile_records": sum(h.reason is None for h in hostile),
        "hostile_bytes": sum(len(h.value or b"") for h in hostile),
        "http_posts": len(posts),
    }
    report.figures.update(figures)
    report.notes += [
        f"{len(hostile)} hostile records among {len(feed)} feed records on the raw topic "
        f"({figures['refused_records']:.0f} to refuse, {figures['valid_hostile_records']:.0f} "
        f"valid, {figures['hostile_bytes'] / 1e6:.1f} MB), {len(posts)} requests to {PATH}; "
        f"then a flood of {len(floods)} records on one key, a burst of {len(bursts)} of 1 MB",
        f"{good} good feed records in {mixed.seconds:.1f}s among hostile ones, "
        f"{baseline.seconds:.1f}s clean: {figures['mixed_good_per_s']:.0f}/s against "
        f"{figures['clean_good_per_s']:.0f}/s (x{figures['throughput_ratio']:.2f}); "
        f"the flood at {figures['flood_per_s']:.0f}/s, the burst at "
        f"{figures['burst_mib_per_s']:.0f} MiB/s",
        f"peak RSS {baseline.rss_mib:.0f} MiB clean; {mixed.rss_mib:.0f} MiB after the mixed "
        f"feed (x{mixed.rss_mib / baseline.rss_mib:.2f}, bound "
        f"{figures['mixed_rss_bound_mib']:.0f}), {flooded.rss_mib:.0f} after the flood, "
        f"{burst_out.rss_mib:.0f} after the burst (x{figures['rss_ratio']:.2f}, bound "
        f"{figures['rss_bound_mib']:.0f})",
        f"expected alerts the clean feed's: {_ids(run) == _ids(clean)}",
    ]
    return report


def _mib(records: Sequence[Hostile]) -> float:
    return sum(len(r.value or b"") for r in records) / 2**20


def _keyed(records: Sequence[Hostile | bytes]) -> list[tuple[bytes | None, bytes | None]]:
    return [(r.key, r.value) if isinstance(r, Hostile) else (None, r) for r in records]


def _ids(run: Run) -> set[str]:
    return {alert.alert_id for alert in run.expected.alerts}


def _timed(
    run: Run,
    worker: WorkerProcess,
    records: list[tuple[bytes | None, bytes | None]],
    posts: Sequence[Post] = (),
    token: str | None = None,
) -> _Phase:
    """Send ``records`` (key, value) to the raw topic while ``posts`` go to the worker's
    HTTP endpoint; time from the first send until the worker has read every raw record
    and detection has taken every signal hit made of them."""
    worker.wait_for("its partitions", rebalanced, 60)
    port = worker.settings.web_port
    target = _progress(worker)[0] + len(records)
    began = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        answers = pool.submit(
            lambda: [post_items(port, p.body, token=token if p.token else None) for p in posts]
        )
        offsets = asyncio.run(_produce(run.settings, records))

        def done() -> bool:
            received, hits, detected = _progress(worker)
            return received >= target and detected == hits

        run.wait("for every raw record through detection", done, 180)
        seconds = time.monotonic() - began
        replies = answers.result()
    return _Phase(seconds, worker.rss_peak_mib() or 0.0, offsets, replies)


def _detected(run: Run) -> bool:
    signals = asyncio.run(topic_position(run.settings, run.settings.topic_signals))
    return signals.committed == signals.end


def _progress(worker: WorkerProcess) -> tuple[float, float, float]:
    """Raw records read, signal hits made of them, and hits detection has taken."""
    worker.check_alive()  # a dead worker fails the scenario at once, with its log
    try:
        samples = worker.samples()
    except OSError:
        return 0.0, 0.0, 0.0
    detected = sum(total(samples, name) for name in _OUTCOMES)
    return total(samples, RECEIVED), total(samples, _HITS), detected


async def _produce(
    settings: Settings, records: list[tuple[bytes | None, bytes | None]]
) -> list[tuple[int, int]]:
    """Every record to the raw topic as it is (oversized and empty ones included), in
    order; where each landed. ``send_records`` would dead-letter oversized ones itself."""
    await ensure_topics(settings)
    producer = producer_for(settings)
    await producer.start()
    try:
        sends = [await producer.send(settings.topic_raw, v, k) for k, v in records]
        return [(meta.partition, meta.offset) for meta in await asyncio.gather(*sends)]
    finally:
        await producer.stop()


def _check_letters(
    settings: Settings,
    sent: list[Hostile | bytes],
    offsets: list[tuple[int, int]],
    posts: list[Post],
    answers: list[tuple[int, dict[str, Any]]],
) -> list[str]:
    """Each record's fate against what it should be: dead-lettered with the expected
    reason and error, or not dead-lettered at all; each request answered as it should."""
    letters = [
        orjson.loads(v) for v in asyncio.run(read_values(settings, settings.topic_deadletter))
    ]
    by_offset = {
        (x["partition"], x["offset"]): x
        for x in letters
        if x["source"] == "kafka" and x["topic"] == settings.topic_raw
    }
    problems: list[str] = []
    for record, where in zip(sent, offsets, strict=True):
        problems += _check_record(record, by_offset.pop(where, None), where, settings)
    problems += [f"a dead letter for no record sent: {x}" for x in by_offset.values()]

    for post, (status, answer) in zip(posts, answers, strict=True):
        if status != post.status:
            problems.append(f"POST {post.name!r}: {status} {answer}, expected {post.status}")
            continue
        reasons = [r for _, r in post.letters]
        said = [r["reason"] for r in answer.get("rejected", [])] or [answer.get("error")]
        if status == 400 and (said != reasons or answer.get("accepted")):
            problems.append(f"POST {post.name!r}: answered {answer}, expected reasons {reasons}")
    want = Counter((o[:ORIGINAL_LIMIT], r) for p in posts for o, r in p.letters)
    got = Counter(
        (base64.b64decode(x["original_b64"]), x["reason"])
        for x in letters
        if x["source"] == "http" and x["topic"] == PATH
    )
    names = {o[:ORIGINAL_LIMIT]: p.name for p in posts for o, _ in p.letters}
    for (original, reason), n in (want - got).items():
        problems.append(f"POST {names[original]!r}: {n} dead letter(s) {reason} missing")
    for (original, reason), n in (got - want).items():
        name = names.get(original, f"(none: {original[:60]!r})")
        problems.append(f"POST {name!r}: {n} unexpected dead letter(s) {reason}")
    others = Counter(x["source"] for x in letters if x["source"] not in ("kafka", "http"))
    problems += [f"{n} dead letters from {source}" for source, n in others.items()]
    return _summarised(problems)


def _check_record(
    record: Hostile | bytes,
    letter: dict[str, Any] | None,
    where: tuple[int, int],
    settings: Settings,
) -> list[str]:
    if isinstance(record, Hostile):
        name, reason, error = record.name, record.reason, record.error
    else:
        # A feed record: the feed's own bad records are refused as decode refuses them.
        decoded = decode_item(record, received_at=time.time(), max_ahead=settings.max_event_ahead)
        name = "feed record"
        reason, error = (decoded.reason, "") if isinstance(decoded, Rejection) else (None, "")
    at = f"{name!r} at {where[0]}/{where[1]}"
    if reason is None:
        return [] if letter is None else [f"{at} dead-lettered: {letter['reason']}"]
    if letter is None:
        return [f"{at} not dead-lettered; expected {reason}"]
    if letter["reason"] != reason or error not in letter["error"]:
        return [f"{at}: {letter['reason']}: {letter['error']!r}; expected {reason}: {error!r}"]
    return []


def _summarised(problems: list[str], keep: int = 20) -> list[str]:
    """The first problems, and how many more: a systematic fault repeats thousands of times."""
    more = len(problems) - keep
    return problems[:keep] + ([f"... and {more} more"] if more > 0 else [])
