"""Idle HTTP clients cannot take the worker's connections: a live worker, real sockets."""

from __future__ import annotations

import socket

from streams.settings import Settings
from tests.integration.conftest import wait_for
from tests.support.worker_process import scrape


def _closed_by_peer(conn: socket.socket) -> bool:
    conn.settimeout(0.05)
    try:
        return conn.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:  # reset
        return True


def test_idle_connections_are_evicted_at_the_cap_and_closed_after_the_header_timeout(
    settings: Settings, worker_factory
) -> None:
    guarded = settings.model_copy(update={"http_max_connections": 40, "http_header_timeout": 6.0})
    worker = worker_factory(guarded)
    port = guarded.web_port
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(150)]
    try:
        # Every idle connection past the cap closed the oldest idle one: the newest stay.
        metrics = worker.wait_until(
            "the cap held",
            lambda m: m.get('watchfloor_http_connections_closed_total{reason="evicted"}', 0) >= 110,
            timeout=20,
        )
        assert metrics["watchfloor_http_connections"] <= 40
        wait_for(
            "the evicted connections closed",
            lambda: all(_closed_by_peer(c) for c in idle[:100]),
            timeout=5,
            poll=0.2,
        )
        # A scrape still gets in while the cap is reached, and is answered.
        assert any(name == "watchfloor_http_connections" for name, _, _ in scrape(port))
        # A connection that says nothing is closed once its header timeout passes.
        wait_for(
            "the silent connections closed",
            lambda: all(_closed_by_peer(c) for c in idle[110:]),
            timeout=20,
            poll=0.2,
        )
        metrics = worker.wait_until(
            "the idle ones timed out",
            lambda m: (
                m.get('watchfloor_http_connections_closed_total{reason="header_timeout"}', 0) >= 30
            ),
            timeout=10,
        )
        # A client that sends its request in time is served as before.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert conn.recv(12) == b"HTTP/1.1 200"
    finally:
        for conn in idle:
            conn.close()
