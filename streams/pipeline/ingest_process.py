"""The ingest agent in processes of its own, so that a worker uses more than one core.

Decoding and matching raw items is the worker's CPU-bound work, and Python runs it on one
core per process. With ``WATCHFLOOR_INGEST_PROCESSES`` at N > 0 the worker starts N
processes, each running a ``RawIngest`` with its own consumer in the ingest group, so
they share the raw partitions as separate workers would; the worker's own process keeps
Faust, detection and the web server. Nothing else changes: each process commits its
batches after their output is acknowledged, exactly as ingest in the worker's process.

Each process reports its batches and assignments to the worker over a pipe, and the
worker counts them in its metrics. The worker stops when one of them ends unasked, as
when an agent crashes; each stops (committing the batch in hand) when the worker tells it
to or when the worker's end of the pipe closes, so none outlives a killed worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import logging.config
import multiprocessing
import threading
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from mode import Service

from streams.logs import logging_config
from streams.pipeline.config import ingest_processor
from streams.pipeline.metrics import Metrics
from streams.pipeline.raw_ingest import BatchCounts, MetricsReports, RawIngest
from streams.pipeline.watchlist_topic import WatchlistFeed, read_newest
from streams.settings import Settings
from streams.signals.matcher import Matcher
from streams.signals.watchlist import load_watchlist

__all__ = ["IngestProcesses"]

log = logging.getLogger(__name__)

_STOP = "stop"
_STOP_WAIT = 30.0
"""Seconds a process has to commit its batch in hand and leave the group when stopped."""


class IngestProcesses(Service):
    """The worker's side: starts the processes, counts what they report, stops them."""

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        count: int,
        crash: Callable[[BaseException], Awaitable[None]],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.reports = MetricsReports(metrics)
        self.metrics = metrics
        self.count = count
        self._crash_worker = crash
        self._processes: list[tuple[BaseProcess, Connection]] = []
        self._partitions: dict[int, int] = {}
        self._stopping = False

    async def on_start(self) -> None:
        loop = asyncio.get_running_loop()
        # Spawned, not forked: a fork would copy the worker's threads' locks mid-use.
        context = multiprocessing.get_context("spawn")
        for index in range(self.count):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_ingest_process,
                args=(self.settings, theirs),
                name=f"watchfloor-ingest-{index}",
                daemon=True,
            )
            process.start()
            theirs.close()
            self._processes.append((process, ours))
            threading.Thread(
                target=self._listen, args=(index, ours, loop), name=process.name, daemon=True
            ).start()
        log.info("ingest processes started", extra={"processes": self.count})

    def _listen(self, index: int, conn: Connection, loop: asyncio.AbstractEventLoop) -> None:
        """A thread per process: its reports go to the event loop, its end to ``_ended``."""
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                loop.call_soon_threadsafe(self._ended, index)
                return
            loop.call_soon_threadsafe(self._report, index, message)

    def _report(self, index: int, message: tuple[str, Any]) -> None:
        kind, body = message
        if kind == "batch":
            self.reports.batch(body)
        elif kind == "assigned":
            self._partitions[index] = body
            self.metrics.ingest_partitions.set(sum(self._partitions.values()))
            self.metrics.ingest_assignments.inc()

    def _ended(self, index: int) -> None:
        if self._stopping:
            return
        process = self._processes[index][0]
        process.join(timeout=1.0)
        log.error(
            "an ingest process ended; stopping the worker",
            extra={"ingest_process": process.name, "exitcode": process.exitcode},
        )
        failure = RuntimeError(f"{process.name} ended with exit code {process.exitcode}")
        self.add_future(self._crash_worker(failure))

    async def on_stop(self) -> None:
        self._stopping = True
        for _, conn in self._processes:
            with contextlib.suppress(OSError):  # already gone
                conn.send(_STOP)
        await asyncio.get_running_loop().run_in_executor(None, self._join)

    def _join(self) -> None:
        for process, conn in self._processes:
            process.join(timeout=_STOP_WAIT)
            if process.exitcode is None:
                log.warning(
                    "ingest process did not stop; killed", extra={"ingest_process": process.name}
                )
                process.kill()
                process.join()
            conn.close()


class _PipeReports:
    """The process's side of the reports: sent to the worker as they happen."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def batch(self, counts: BatchCounts) -> None:
        self.conn.send(("batch", counts))

    def assigned(self, partitions: int) -> None:
        self.conn.send(("assigned", partitions))


def _ingest_process(settings: Settings, conn: Connection) -> None:
    """Where an ingest process starts; it exits with 1 when ingest crashed."""
    logging.config.dictConfig(logging_config(settings.log_level))
    crashed = asyncio.run(_run(settings, conn))
    raise SystemExit(1 if crashed else 0)


async def _run(settings: Settings, conn: Connection) -> bool:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    crashed: list[BaseException] = []

    def listen() -> None:
        with contextlib.suppress(EOFError, OSError):  # EOF: the worker is gone
            conn.recv()  # told to stop
        loop.call_soon_threadsafe(stop.set)

    async def crash(exc: BaseException) -> None:
        crashed.append(exc)
        stop.set()

    threading.Thread(target=listen, name="worker-pipe", daemon=True).start()
    # As the worker does: the newest watchlist pushed, else the file, then each new one.
    newest, offsets = await read_newest(settings)
    watchlist = newest or load_watchlist(settings.watchlist)
    core = ingest_processor(settings, Matcher(watchlist))
    ingest = RawIngest(settings, _PipeReports(conn), core, crash)
    feed = WatchlistFeed(settings, watchlist.version, offsets)
    feed.subscribe(lambda taken: setattr(core, "matcher", Matcher(taken)))
    await feed.start()
    # The process's start-up objects live as long as it does (see the worker's own freeze).
    gc.collect()
    gc.freeze()
    await ingest.start()
    await stop.wait()
    await ingest.stop()
    await feed.stop()
    return bool(crashed)
