"""End-to-end throughput and latency of the real pipeline on a real Kafka broker.

    python bench/pipeline.py --items 50000 [--rate ITEMS_PER_S] [--latency]

Generates the sample feed (dated to end before today, so none of it is refused as
future), starts ``python -m streams worker`` on fresh topics, produces every item at full
speed (or at a steady ``--rate``) and polls the worker's /metrics until every record is
received and every signal hit is accounted for. Then, by default, reads the same raw
topic with a plain aiokafka consumer (decode + count, no Faust) as a baseline: absolute
figures depend on the machine and its neighbours, the pipeline/baseline ratio much less
so; and once more handing each batch to ingest's core, which tells the cost of the core
from that of the service around it (sends, commits, the detect agent, Faust). With
``--latency`` it then runs again, on fresh topics, at a steady half of the rate just
measured: latency there is the pipeline's, not a queue's.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as a script: tests.support lives in the checkout, not the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import math
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from streams.cli.kafka_local import KafkaSetupError, LocalKafka
from streams.cli.replay import producer_for
from streams.kafka_security import client_security
from streams.pipeline.config import ingest_processor
from streams.pipeline.topics import ensure_topics
from streams.settings import Settings
from streams.signals.matcher import Matcher
from streams.signals.watchlist import load_watchlist
from streams.sources.samplefeed import FeedSpec, generate
from tests.support.faults.accounting import read_records
from tests.support.worker_process import (
    Samples,
    WorkerError,
    WorkerProcess,
    free_port,
    isolated_settings,
    rebalanced,
    total,
)

POLL_SECONDS = 0.1
LATENCY = "watchfloor_processing_latency_seconds"
WARMUP_SECONDS = 5.0
"""A steady run's latency is also given without its first seconds: a worker's first hits
wait on its start-up (first fetches, first code paths, the read of the alerts already
sent), which a long-running worker has behind it."""

Record = tuple[bytes, bytes]  # (key, value), encoded before any clock starts
_BURST = 20_000
"""Records a burst sends before it waits for their acknowledgements."""
_TICK = 0.005
"""Seconds between two sends of a steady run: as a producer's linger."""


# --- input ----------------------------------------------------------------------------------


def feed_records(items: int, today: datetime | None = None) -> list[Record]:
    """``items`` records of the sample feed, extended in days at its usual daily volume.

    More days rather than denser days keeps the mix of background, near-miss, genuine and
    redelivered items the same at every size, so runs of different sizes compare. The
    feed ends before ``today`` (by default the present), so no item is refused as dated
    in the future whatever the size and the day; it starts on the Monday, at its usual
    hour, a whole number of weeks before the sample feed's own start, so every run of one
    size sends the same feed, moved by whole weeks, its surge with it.
    """
    days = math.ceil(items / 150) + 1  # the default feed carries ~153 items a day
    feed = generate(_spec(days, today))
    while len(feed) < items:
        days = math.ceil(days * 1.1)
        feed = generate(_spec(days, today))
    # Keyed by item id as `watchfloor replay` does, so redeliveries share a partition.
    return [(str(item["id"]).encode(), orjson.dumps(item)) for item in feed[:items]]


def _spec(days: int, today: datetime | None) -> FeedSpec:
    base = FeedSpec()
    end = (today or datetime.now(UTC)) - timedelta(days=1)
    weeks = max(0, math.ceil((base.start + timedelta(days=days) - end) / timedelta(weeks=1)))
    shift = timedelta(weeks=weeks)
    surge = base.surge
    if surge is not None:
        surge = replace(surge, start=surge.start - shift, end=surge.end - shift)
    return replace(base, start=base.start - shift, days=days, surge=surge)


# --- broker ---------------------------------------------------------------------------------


@contextmanager
def broker(keep: bool) -> Iterator[str]:
    """WATCHFLOOR_KAFKA_BOOTSTRAP if set; else the project's local broker, stopped after
    unless it was already running (someone else's) or ``keep`` asks otherwise."""
    external = os.environ.get("WATCHFLOOR_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    kafka = LocalKafka(Settings())
    was_running = kafka.status().running
    status = kafka.up()
    try:
        yield status.bootstrap
    finally:
        if not (was_running or keep):
            kafka.down()


def bench_settings(
    bootstrap: str, run: str, batch_size: int | None, partitions: int | None = None
) -> Settings:
    """Topics and consumer group of this run alone, so no earlier data or offsets leak in."""
    extra: dict[str, Any] = {}
    if batch_size is not None:
        extra["batch_size"] = batch_size
    if partitions is not None:
        extra["partitions"] = partitions
    if watchlist := os.environ.get("WATCHFLOOR_WATCHLIST"):
        extra["watchlist"] = Path(watchlist).resolve()  # the worker runs in another folder
    return isolated_settings(bootstrap, "bench", run, **extra)


async def delete_run_topics(settings: Settings, run: str) -> None:
    """The raw topic alone holds ~1 KB per item; a shared broker should not keep it.
    Faust's changelog topic is named after the app id, hence the match on the run id."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, **client_security(settings))
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if run in t]
        if ours:
            await admin.delete_topics(ours)
    finally:
        await admin.close()


class BenchError(Exception):
    """The run cannot give a trustworthy figure; the message says why."""


# --- metrics --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accounting:
    received: float
    ingested: float
    deadlettered: float
    hits: float
    counted: float
    duplicates: float
    syndicated: float
    late: float
    alerts: float

    @classmethod
    def of(cls, samples: Samples) -> Accounting:
        return cls(
            received=total(samples, "watchfloor_records_received_total"),
            ingested=total(samples, "watchfloor_items_ingested_total"),
            deadlettered=total(samples, "watchfloor_items_deadlettered_total"),
            hits=total(samples, "watchfloor_signal_hits_total"),
            counted=total(samples, "watchfloor_hits_counted_total"),
            duplicates=total(samples, "watchfloor_duplicates_dropped_total"),
            syndicated=total(samples, "watchfloor_syndicated_copies_total"),
            late=total(samples, "watchfloor_late_events_total"),
            alerts=total(samples, "watchfloor_alerts_emitted_total"),
        )

    def complete(self, items: int) -> bool:
        # A rebalance can hand a batch to a second worker: its records, then its hits, are
        # read twice (the second reading counts as duplicates or late).
        return (
            self.received >= items
            and self.ingested + self.deadlettered == self.received
            and self.counted + self.duplicates + self.syndicated + self.late >= self.hits
        )


@dataclass(frozen=True)
class Quantile:
    value: float
    lower: float  # the bucket it was interpolated in: the value is no more precise
    upper: float


def histogram_quantile(
    q: float, samples: Samples, name: str, since: Samples | None = None
) -> Quantile | None:
    """Like PromQL's histogram_quantile: find the bucket holding rank q·count and
    interpolate linearly inside it (lower bound 0 for the first bucket); a rank in the
    +Inf bucket gives the highest finite bound. With ``since``, of the observations made
    after those samples were taken (as PromQL's ``increase`` over a range)."""
    summed = _buckets(samples, name)
    for le, before in _buckets(since or [], name).items():
        summed[le] -= before
    buckets = sorted(summed.items())
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for upper, cumulative in buckets:
        if cumulative >= rank:
            if math.isinf(upper):
                return Quantile(lower, lower, upper)
            value = lower + (upper - lower) * (rank - below) / (cumulative - below)
            return Quantile(value, lower, upper)
        lower, below = upper, cumulative
    return Quantile(lower, lower, math.inf)


def _buckets(samples: Samples, name: str) -> dict[float, float]:
    """Upper bound → cumulative count, summed over workers (each serves its own)."""
    summed: dict[float, float] = {}
    for n, labels, value in samples:
        if n == f"{name}_bucket":
            le = float(labels["le"])
            summed[le] = summed.get(le, 0.0) + value
    return summed


# --- produce and wait -----------------------------------------------------------------------


async def produce(
    settings: Settings,
    records: list[Record],
    rate: float | None = None,
    warm: tuple[float, Callable[[], None]] | None = None,
) -> tuple[float, float]:
    """Send every record at once, or at a steady ``rate`` items a second. ``warm``:
    (seconds, callback) calls the callback once that long after the first send.

    The load, not a second pipeline: records go out in batches the producer's C record
    builder fills, to the partitions the default partitioner picks for their keys, worked
    out before the clock starts. A send per record costs a Python producer about as much
    CPU as ingest spends on the record, and on a small machine it would share the
    workers' cores. Each record's timestamp (where the latency metric starts) is the
    moment it joined its batch; a steady run closes its batches every ``_TICK`` seconds.

    Returns (t0, t_acked) on the monotonic clock: t0 just before the first send (producer
    already connected), t_acked once the broker acknowledged the last record.
    """
    producer = producer_for(settings, linger_ms=0)
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(settings.topic_raw))
        choose = DefaultPartitioner()
        where = [choose(key, partitions, partitions) for key, _ in records]
        ship = partial(producer.send_batch, topic=settings.topic_raw)
        t0 = time.monotonic()
        pending: list[asyncio.Future[Any]] = []
        sent = 0
        while sent < len(records):
            if warm is not None and time.monotonic() - t0 >= warm[0]:
                warm[1]()
                warm = None
            if rate is None:
                due = min(len(records), sent + _BURST)
            else:
                # On schedule: record n goes out at t0 + n / rate, never in a catch-up rush.
                due = min(len(records), int((time.monotonic() - t0) * rate) + 1)
                if due <= sent:
                    await asyncio.sleep(_TICK)
                    continue
            batches: dict[int, Any] = {}
            for n in range(sent, due):
                key, value = records[n]
                partition = where[n]
                batch = batches.get(partition)
                if batch is not None:
                    if batch.append(key=key, value=value, timestamp=None) is not None:
                        continue
                    # Full: away it goes, and a new one takes the record.
                    pending.append(await ship(batch, partition=partition))
                batch = batches[partition] = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None)
            for partition, batch in batches.items():
                pending.append(await ship(batch, partition=partition))
            sent = due
            if rate is None:  # bounded memory: a burst waits for each slice's acknowledgements
                await asyncio.gather(*pending)
                pending.clear()
            else:
                await asyncio.sleep(_TICK)
        await asyncio.gather(*pending)
        return t0, time.monotonic()
    finally:
        await producer.stop()


def scrape_all(workers: list[WorkerProcess]) -> Samples:
    """Every worker's samples, one list: counters add up across workers."""
    samples: Samples = []
    for worker in workers:
        worker.check_alive()
        samples += worker.samples()
    return samples


def wait_accounted(
    workers: list[WorkerProcess], items: int, t0: float, timeout: float
) -> tuple[float, Samples]:
    """Poll /metrics until every record is in and every hit is counted, dropped as a
    duplicate, a copy or late; returns the monotonic time the first complete scrape came back."""
    deadline = t0 + timeout
    shown = 0.0
    seen = Accounting.of([])
    while time.monotonic() < deadline:
        with suppress(OSError):
            samples = scrape_all(workers)
            now = time.monotonic()
            seen = Accounting.of(samples)
            if seen.complete(items) and _confirmed(workers, seen):
                return now, samples
        if time.monotonic() - shown >= 1.0:
            shown = time.monotonic()
            _progress(seen, items, shown - t0)
        time.sleep(POLL_SECONDS)
    tails = "\n".join(worker.tail() for worker in workers)
    raise BenchError(
        f"accounting incomplete after {timeout:.0f}s: {seen}\nworker log tail:\n{tails}"
    )


def _confirmed(workers: list[WorkerProcess], seen: Accounting) -> bool:
    """A hit's counter moves just after its record's, so one scrape can catch an item's
    first hit counted and its second not yet matched. An identical next scrape rules
    that out; the time of the first one stands."""
    time.sleep(POLL_SECONDS)
    return Accounting.of(scrape_all(workers)) == seen


def _progress(seen: Accounting, items: int, elapsed: float) -> None:
    accounted = seen.counted + seen.duplicates + seen.syndicated + seen.late
    print(
        f"  {elapsed:6.1f}s  received {seen.received:,.0f}/{items:,}  "
        f"hits accounted {accounted:,.0f}/{seen.hits:,.0f}",
        file=sys.stderr,
        flush=True,
    )


# --- baseline -------------------------------------------------------------------------------


Take = Callable[[list[ConsumerRecord[bytes, bytes]]], None]
"""What a baseline does with each batch of records it reads."""


def decode_only(records: list[ConsumerRecord[bytes, bytes]]) -> None:
    for record in records:
        orjson.loads(record.value or b"null")


def ingest_core(settings: Settings) -> Take:
    """The worker's ingest core on each batch (decode, event time, match, hits built with
    their fingerprints), with the run's watchlist and settings; nothing is sent."""
    core = ingest_processor(settings, Matcher(load_watchlist(settings.watchlist)))

    def take(records: list[ConsumerRecord[bytes, bytes]]) -> None:
        core.process((r.partition, r.value, r.timestamp / 1000.0) for r in records)

    return take


async def baseline_read(settings: Settings, items: int, timeout: float, take: Take) -> float:
    """Seconds a plain consumer takes to read the raw topic, handing each batch to
    ``take``, measured on the same machine in the same minute as the pipeline."""
    # No group (group_id None): all partitions are read without a join, so the clock times
    # reading alone.
    consumer = AIOKafkaConsumer(
        settings.topic_raw,
        bootstrap_servers=settings.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **client_security(settings),
    )
    await consumer.start()
    try:
        count = 0
        started = time.monotonic()
        while count < items:
            if time.monotonic() - started > timeout:
                raise BenchError(f"baseline read {count:,}/{items:,} records in {timeout:.0f}s")
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for records in batches.values():
                take(records)
                count += len(records)
        return time.monotonic() - started
    finally:
        await consumer.stop()


# --- report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    items: int
    """Records timed: in a burst, those not yet received when the workers had their
    partitions."""
    seconds: float
    produce_seconds: float
    samples: Samples
    warm_samples: Samples | None
    """In a steady run, the samples at the end of the warm-up (``WARMUP_SECONDS``)."""
    rss_mib: float | None
    workers: int
    alert_ids: frozenset[str]

    @property
    def rate(self) -> float:
        return self.items / self.seconds


def report(result: Result, settings: Settings, mode: str) -> None:
    acc = Accounting.of(result.samples)
    p50 = histogram_quantile(0.50, result.samples, LATENCY)
    p99 = histogram_quantile(0.99, result.samples, LATENCY)
    observed = total(result.samples, f"{LATENCY}_count")
    warm = result.warm_samples
    steady_lines = []
    if warm is not None:
        after = observed - total(warm, f"{LATENCY}_count")
        w50 = histogram_quantile(0.50, result.samples, LATENCY, warm)
        w99 = histogram_quantile(0.99, result.samples, LATENCY, warm)
        steady_lines = [
            f"  after warm-up    p50 {_quantile(w50)}",
            f"                   p99 {_quantile(w99)}",
            f"                   ({after:,.0f} hits, those counted after the first "
            f"{WARMUP_SECONDS:g}s of sending)",
        ]
    rss = f"{result.rss_mib:,.1f} MiB (VmHWM)" if result.rss_mib is not None else "n/a"
    lines = [
        f"pipeline, {mode}: {settings.bootstrap}, {result.workers} worker(s), "
        f"{settings.partitions} partition(s), batch size {settings.batch_size} "
        f"(ingest {settings.ingest_batch_size}), batch within {settings.batch_within}s",
        f"  items            {result.items:,}",
        f"  seconds          {result.seconds:.2f}  ({_timed(mode)}; polled every {POLL_SECONDS}s)",
        f"  end-to-end       {result.rate:,.0f} items/s",
        f"  produce only     {acc.received / result.produce_seconds:,.0f} items/s  "
        f"({result.produce_seconds:.2f}s to acks=all of the last record)",
        f"  latency p50      {_quantile(p50)}",
        f"  latency p99      {_quantile(p99)}",
        f"                   (raw record's broker timestamp → hit counted, {observed:,.0f} hits;",
        "                   quantiles from the histogram buckets, linearly interpolated",
        "                   like PromQL's histogram_quantile)",
        *steady_lines,
        f"  worker RSS peak  {rss}",
        f"  signal hits      {acc.hits:,.0f}  (counted {acc.counted:,.0f}, duplicates "
        f"{acc.duplicates:,.0f}, copies {acc.syndicated:,.0f}, late {acc.late:,.0f})",
        f"  alerts           {acc.alerts:,.0f}  ({len(result.alert_ids):,} distinct ids on the "
        "alerts topic)",
        f"  dead-lettered    {acc.deadlettered:,.0f}",
    ]
    print("\n".join(lines), flush=True)


def report_baseline(result: Result, read: int, decode: float, core: float) -> None:
    """``read`` records, read in ``decode`` seconds by the plain baseline and in ``core``
    seconds through ingest's core."""

    def rate(seconds: float) -> str:
        return f"{read / seconds:,.0f}  ({seconds:.2f}s)"

    print(
        "baseline: plain aiokafka consumer, orjson-decode and count, no Faust, same raw topic, "
        "worker stopped\n"
        f"  items/s          {rate(decode)}\n"
        f"  ratio            {result.rate * decode / read:.3f}  "
        "(pipeline end-to-end / baseline)\n"
        "core read: the same consumer handing each batch to ingest's core (decode, event "
        "time, match, hits built; nothing sent)\n"
        f"  items/s          {rate(core)}\n"
        f"  ratio            {result.rate * core / read:.3f}  "
        "(pipeline end-to-end / core read)",
        flush=True,
    )


def _timed(mode: str) -> str:
    if mode.startswith("burst (all sent before"):
        return "every worker has its partitions → all accounted"
    return "first send → all accounted"


def _quantile(value: Quantile | None) -> str:
    if value is None:
        return "n/a"
    return f"{value.value:.3f}s  (bucket {value.lower:g}–{value.upper:g}s)"


# --- main -----------------------------------------------------------------------------------


def run(args: argparse.Namespace, bootstrap: str) -> int:
    print(f"generating {args.items:,} sample-feed items ...", file=sys.stderr, flush=True)
    records = feed_records(args.items)
    if args.scale_out:
        return scale_out(args, bootstrap, records)
    burst = run_once(args, bootstrap, records, args.workers, args.rate, baseline=args.baseline)
    if args.latency:
        # Latency under load, not queueing: half the rate just measured, on fresh topics.
        half = burst.rate / 2
        steady = run_once(args, bootstrap, records, args.workers, half, baseline=False)
        del steady
    return 0


def scale_out(args: argparse.Namespace, bootstrap: str, records: list[Record]) -> int:
    """One worker, then ``--workers`` workers, each on fresh topics of ``--partitions``,
    each sent the records at full speed once its workers are up."""
    one = run_once(args, bootstrap, records, 1, None, baseline=args.baseline, prefill=False)
    many = run_once(args, bootstrap, records, args.workers, None, baseline=False, prefill=False)
    same = one.alert_ids == many.alert_ids
    print(
        f"scale-out: {args.workers} workers / 1 worker = {many.rate / one.rate:.2f}× items/s "
        f"({many.rate:,.0f} / {one.rate:,.0f}); alert ids "
        + ("identical" if same else f"DIFFER ({len(one.alert_ids ^ many.alert_ids)} not in both)"),
        flush=True,
    )
    return 0 if same else 1


def run_once(
    args: argparse.Namespace,
    bootstrap: str,
    records: list[Record],
    workers: int,
    rate: float | None,
    *,
    baseline: bool,
    prefill: bool = True,
) -> Result:
    run_id = uuid.uuid4().hex[:8]
    settings = bench_settings(bootstrap, run_id, args.batch_size, args.partitions)
    try:
        if rate:
            mode = f"steady at {rate:,.0f} items/s"
        else:
            mode = "burst (all sent before start)" if prefill else "burst (sent once up)"
        result = run_pipeline(settings, records, args.timeout, rate, workers, prefill=prefill)
        report(result, settings, mode)
        if baseline:
            read, timeout = len(records), args.timeout
            decode = asyncio.run(baseline_read(settings, read, timeout, decode_only))
            core = asyncio.run(baseline_read(settings, read, timeout, ingest_core(settings)))
            report_baseline(result, read, decode, core)
        return result
    finally:
        asyncio.run(delete_run_topics(settings, run_id))


def run_pipeline(
    settings: Settings,
    records: list[Record],
    timeout: float,
    rate: float | None = None,
    workers: int = 1,
    *,
    prefill: bool = True,
) -> Result:
    """A burst (``rate`` None) fills the raw topic before any worker starts and times from
    the moment every worker has its partitions: the pipeline's rate, not the producer's.
    Without ``prefill``, and in a steady run, the workers start and recover first, then the
    records are sent (at full speed, or at ``rate``) and the clock runs from the first
    send: several workers then share the whole run, where with a prefilled topic the first
    one up would read most of it alone while the others start."""
    folder = Path(tempfile.mkdtemp(prefix="watchfloor-bench-"))
    procs: list[WorkerProcess] = []
    warm_samples: Samples | None = None
    try:
        produce_seconds = 0.0
        prefill = prefill and rate is None
        if prefill:
            asyncio.run(ensure_topics(settings))
            print(f"producing to {settings.topic_raw} ...", file=sys.stderr, flush=True)
            p0, p1 = asyncio.run(produce(settings, records))
            produce_seconds = p1 - p0
        for n in range(workers):
            mine = settings.model_copy(update={"web_port": free_port()})
            procs.append(WorkerProcess(mine, folder / f"worker-{n}.log", cwd=folder))
        t0 = wait_assigned(procs, settings.partitions, timeout, recovered=not prefill)
        timed = len(records)
        if prefill:
            timed -= int(Accounting.of(scrape_all(procs)).received)
        else:
            print(f"producing to {settings.topic_raw} ...", file=sys.stderr, flush=True)
            warm = None
            if rate is not None:

                def warmed() -> None:
                    nonlocal warm_samples
                    warm_samples = scrape_all(procs)

                warm = (WARMUP_SECONDS, warmed)
            t0, t_acked = asyncio.run(produce(settings, records, rate, warm))
            produce_seconds = t_acked - t0
        t_end, samples = wait_accounted(procs, len(records), t0, timeout)
        rss = [r for r in (p.rss_peak_mib() for p in procs) if r is not None]
        ids = asyncio.run(alert_ids(settings))
        return Result(
            timed,
            t_end - t0,
            produce_seconds,
            samples,
            warm_samples,
            max(rss, default=None),
            workers,
            ids,
        )
    finally:
        for proc in procs:
            proc.stop()
        print(f"worker logs: {folder}", file=sys.stderr, flush=True)


def wait_assigned(
    procs: list[WorkerProcess], partitions: int, timeout: float, *, recovered: bool = False
) -> float:
    """Until the raw partitions are spread over all the workers (as many as there are
    partitions); returns the monotonic time that was first seen. Ingest starts at once;
    detection may still be recovering, its input waits on the signals topic meanwhile,
    unless ``recovered`` asks for that too."""
    deadline = time.monotonic() + timeout
    want = min(len(procs), partitions)
    while time.monotonic() < deadline:
        with suppress(OSError):
            per = [p.samples() for p in procs]
            owning = [total(s, "watchfloor_ingest_partitions") for s in per]
            if (
                all(total(s, "watchfloor_ingest_assignments_total") >= 1 for s in per)
                and (not recovered or all(rebalanced(s) for s in per))
                and sum(owning) == partitions
                and sum(1 for o in owning if o > 0) == want
            ):
                return time.monotonic()
        for proc in procs:
            proc.check_alive()
        time.sleep(POLL_SECONDS)
    raise BenchError(f"workers did not all get their partitions within {timeout:.0f}s")


async def alert_ids(settings: Settings) -> frozenset[str]:
    values = await read_records(settings, settings.topic_alerts)
    return frozenset(str(orjson.loads(value)["alert_id"]) for _, value in values)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000, help="records to send")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="WATCHFLOOR_BATCH_SIZE of the worker"
    )
    parser.add_argument(
        "--no-baseline", dest="baseline", action="store_false", help="skip the baseline"
    )
    parser.add_argument(
        "--keep-broker", action="store_true", help="leave a local broker started here running"
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds from the first send to full count"
    )
    parser.add_argument(
        "--rate", type=float, default=None, help="send at this steady rate (items/s), not at once"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (each its own /metrics)"
    )
    parser.add_argument(
        "--partitions", type=int, default=None, help="partitions of the run's topics"
    )
    parser.add_argument(
        "--scale-out",
        action="store_true",
        help="a burst with one worker, then with --workers (default 2), on --partitions "
        "(default 2): the ratio, and whether both give the same alert ids",
    )
    parser.add_argument(
        "--latency",
        action="store_true",
        help="then run again at a steady half of the measured rate, for latency under load",
    )
    args = parser.parse_args(argv)
    if args.scale_out:
        args.workers = max(args.workers, 2)
        args.partitions = args.partitions or args.workers
    if args.workers < 1 or (args.partitions is not None and args.partitions < 1):
        parser.error("--workers and --partitions must be at least 1")
    if args.items < 1:
        parser.error("--items must be at least 1")
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be above 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with broker(args.keep_broker) as bootstrap:
            return run(args, bootstrap)
    except KafkaSetupError as exc:
        print(
            f"bench: {exc}\n(or point WATCHFLOOR_KAFKA_BOOTSTRAP at a running broker)",
            file=sys.stderr,
        )
        return 2
    except (BenchError, WorkerError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
