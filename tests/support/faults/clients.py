"""Fault: thousands of idle HTTP connections held against the worker while the feed flows."""

from __future__ import annotations

import selectors
import socket
import statistics
import threading
import time
from pathlib import Path

from tests.support.faults.accounting import FaultReport
from tests.support.faults.scenarios import Run
from tests.support.worker_process import WorkerProcess, isolated_settings

__all__ = ["slow_clients"]


class _Holder(threading.Thread):
    """Opens ``count`` connections to ``port`` and holds them, none sending a byte; with
    ``reopen``, one the worker closes is opened again at once (a connection flood)."""

    def __init__(self, port: int, count: int, *, reopen: bool = False) -> None:
        super().__init__(name="idle-clients", daemon=True)
        self.port = port
        self.count = count
        self.reopen = reopen
        self.opened = 0
        self.held = threading.Event()
        self.done = threading.Event()

    def _open(self, selector: selectors.BaseSelector) -> None:
        try:
            conn = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        except OSError:
            return  # refused or reset: the next round tries again
        conn.setblocking(False)
        selector.register(conn, selectors.EVENT_READ)
        self.opened += 1

    def run(self) -> None:
        selector = selectors.DefaultSelector()
        try:
            while len(selector.get_map()) < self.count and not self.done.is_set():
                self._open(selector)
            self.held.set()
            while not self.done.is_set():
                for key, _ in selector.select(timeout=0.2):
                    conn = key.fileobj
                    assert isinstance(conn, socket.socket)
                    selector.unregister(conn)
                    conn.close()  # the worker closed it
                    if self.reopen:
                        self._open(selector)
        finally:
            for key in list(selector.get_map().values()):
                key.fileobj.close()  # type: ignore[union-attr]
            selector.close()


def _scrape_seconds(worker: WorkerProcess) -> float:
    began = time.monotonic()
    worker.samples()
    return time.monotonic() - began


def _open_files(worker: WorkerProcess) -> int:
    return len(list(Path(f"/proc/{worker.proc.pid}/fd").iterdir()))


def slow_clients(
    bootstrap: str,
    workdir: Path,
    *,
    idle: int = 5000,
    rate: float = 300.0,
    reopen: bool = False,
) -> FaultReport:
    """Fault: ``idle`` connections opened to the worker's HTTP port and held, never sending
    a byte (with ``reopen``, opened again whenever the worker closes one), while the feed
    is sent at ``rate``; /metrics is scraped all along.

    Nothing may be lost and /metrics must answer within 100 ms (90th percentile).
    """
    settings = isolated_settings(bootstrap, "slow", batch_within=0.1)
    run = Run("slow-clients", settings, workdir)
    holder: _Holder | None = None
    try:
        worker = run.start_worker()
        quiet = [_scrape_seconds(worker) for _ in range(10)]
        holder = _Holder(worker.settings.web_port, idle, reopen=reopen)
        holder.start()
        if not holder.held.wait(120):
            raise TimeoutError(f"slow-clients: {idle} connections not open within 120 s")
        scrapes: list[float] = []
        files: list[int] = []
        with run.sending(rate) as sender:
            while sender.is_alive():
                scrapes.append(_scrape_seconds(worker))
                files.append(_open_files(worker))
                time.sleep(0.2)
        report = run.finish()
        samples = worker.samples()
        closed = {
            labels["reason"]: value
            for name, labels, value in samples
            if name == "watchfloor_http_connections_closed_total"
        }
        p90 = statistics.quantiles(scrapes, n=10)[-1] if len(scrapes) >= 2 else max(scrapes)
        report.notes.append(
            f"{idle:,} idle connections {'reopened' if reopen else 'held'} "
            f"({holder.opened:,} opened in all) while "
            f"{len(run.lines):,} records flowed at {rate:.0f}/s; /metrics median "
            f"{statistics.median(scrapes) * 1000:.0f} ms, 90th percentile {p90 * 1000:.0f} ms, "
            f"max {max(scrapes) * 1000:.0f} ms over {len(scrapes)} scrapes (median "
            f"{statistics.median(quiet) * 1000:.0f} ms before); worker open files at most "
            f"{max(files):,}; closed by the worker: "
            + ", ".join(f"{reason} {n:,.0f}" for reason, n in closed.items())
        )
        if p90 > 0.1:
            report.unexpected.append(f"/metrics took {p90 * 1000:.0f} ms (90th percentile)")
        if max(files) > worker.settings.http_max_connections + 200:
            report.unexpected.append(f"the worker held {max(files):,} open files")
        return report
    finally:
        if holder is not None:
            holder.done.set()
            holder.join(timeout=30)
        run.stop()
