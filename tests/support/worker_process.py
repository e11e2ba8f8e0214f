"""``watchfloor worker`` as a child process, watched through its /metrics.

The integration tests and the benchmarks drive a real worker this way: configured only by
``WATCHFLOOR_*`` variables, as an operator would, and observed only through the metrics an
operator's Prometheus would scrape.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import ProxyHandler, Request, build_opener, urlopen

from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from streams.settings import Settings

__all__ = [
    "Samples",
    "WorkerError",
    "WorkerProcess",
    "free_port",
    "open_local",
    "post_items",
    "rebalanced",
    "scrape",
    "settings_env",
    "total",
]

Samples = list[tuple[str, dict[str, str], float]]

open_local = build_opener(ProxyHandler({})).open
"""``urlopen`` for addresses on this machine: a proxy set in the environment is not asked."""
"""Every sample of a scrape: (name, labels, value)."""


class WorkerError(Exception):
    """The worker died or did not get where it was awaited; the message has its log tail."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def isolated_settings(
    bootstrap: str, prefix: str, run: str | None = None, **overrides: Any
) -> Settings:
    """Settings whose topics, consumer group and web port no other run shares.

    Every topic name and the app id (which names Faust's changelog topics) hold ``run``.
    """
    run = run or uuid.uuid4().hex[:8]
    return Settings(
        kafka_bootstrap=bootstrap,
        app_id=f"wf-{prefix}-{run}",
        topic_raw=f"{prefix}{run}.raw",
        topic_signals=f"{prefix}{run}.signals",
        topic_alerts=f"{prefix}{run}.alerts",
        topic_deadletter=f"{prefix}{run}.deadletter",
        topic_watchlist=f"{prefix}{run}.watchlist",
        web_port=free_port(),
        **overrides,
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a new process read exactly these settings."""
    out = {}
    for name, value in settings.model_dump(exclude_none=True).items():
        if isinstance(value, SecretStr):
            text = value.get_secret_value()
        elif isinstance(value, list | dict):
            text = json.dumps(settings.model_dump(mode="json", include={name})[name])
        else:
            text = str(value)
        out[f"WATCHFLOOR_{name.upper()}"] = text
    return out


def scrape(port: int, host: str = "127.0.0.1") -> Samples:
    """One scrape of a worker's /metrics; raises ``OSError`` while it is not listening."""
    with urlopen(f"http://{host}:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return [
        (s.name, s.labels, s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def total(samples: Samples, name: str) -> float:
    """Sum over all label sets, e.g. every signal of ``watchfloor_signal_hits_total``."""
    return sum(value for n, _, value in samples if n == name)


def rebalanced(samples: Samples) -> bool:
    """Partitions assigned and recovered, for detection and ingest: records sent now are
    consumed at once, so a timed run does not include the worker's start-up."""
    return (
        total(samples, "watchfloor_ingest_assignments_total") >= 1
        and total(samples, "watchfloor_detect_ready") >= 1
    )


def post_items(
    port: int,
    body: bytes,
    *,
    token: str | None = None,
    content_type: str = "application/json",
    host: str = "127.0.0.1",
) -> tuple[int, dict[str, Any]]:
    """``POST /v1/items`` to a worker: the status and the JSON answer, errors included."""
    request = Request(f"http://{host}:{port}/v1/items", data=body, method="POST")
    request.add_header("Content-Type", content_type)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except HTTPError as err:
        return err.code, json.loads(err.read())


class WorkerProcess:
    def __init__(self, settings: Settings, log: Path, cwd: Path | None = None) -> None:
        self.settings = settings
        self.log = log
        self._out = log.open("wb")
        env = {**os.environ, **settings_env(settings)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams", "worker"],
            cwd=cwd,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def samples(self) -> Samples:
        return scrape(self.settings.web_port)

    def wait_for(
        self, what: str, ready: Callable[[Samples], bool], timeout: float, poll: float = 0.1
    ) -> Samples:
        """Scrape until ``ready(samples)`` holds; raise ``WorkerError`` if it never does."""
        deadline = time.monotonic() + timeout
        samples: Samples = []
        while time.monotonic() < deadline:
            self.check_alive()
            with suppress(OSError):  # not listening yet
                samples = self.samples()
                if ready(samples):
                    return samples
            time.sleep(poll)
        raise WorkerError(
            f"timed out after {timeout:.0f}s waiting for {what}; last scrape "
            f"{[s for s in samples if s[0].startswith('watchfloor_')]}\n{self.tail()}"
        )

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise WorkerError(f"worker exited with {self.proc.returncode}:\n{self.tail()}")

    def children(self) -> list[int]:
        """The worker's own processes while it runs: its ingest processes, and the
        resource tracker Python starts beside them."""
        pid = self.proc.pid
        with suppress(OSError):
            return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        return []

    def ingest_processes(self) -> list[int]:
        def spawned(pid: int) -> bool:
            with suppress(OSError):
                return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
            return False

        return [pid for pid in self.children() if spawned(pid)]

    def rss_peak_mib(self) -> float | None:
        """VmHWM, the most resident memory ever held, of the worker and of its ingest
        processes, summed (at least their peak together), read before it stops."""
        peaks = [_vm_hwm_kib(pid) for pid in [self.proc.pid, *self.children()]]
        if peaks[0] is None:
            return None
        return sum(p for p in peaks if p is not None) / 1024

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join("  " + line for line in text)

    def kill(self) -> None:
        """``kill -9`` of the worker and its ingest processes: no shutdown, no commit, no
        leaving the group; what a crash of the machine or container does."""
        if self.proc.poll() is None:
            for child in self.children():
                with suppress(OSError):
                    os.kill(child, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait()
        self._out.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


def _vm_hwm_kib(pid: int) -> int | None:
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None
