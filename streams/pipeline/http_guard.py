"""Bounds on the worker's HTTP connections, so that idle or slow clients cannot take it over.

aiohttp, under Faust's web server, accepts every connection and waits for its first
request without a deadline: 1,100 idle connections once used all of a worker's file
descriptors, and `/metrics` and Kafka with them. Here, in front of aiohttp's server:

- a connection that has not finished its first request head within
  ``WATCHFLOOR_HTTP_HEADER_TIMEOUT`` is closed (between requests aiohttp's own keep-alive
  timeout, ``WATCHFLOOR_HTTP_KEEPALIVE_TIMEOUT``, applies);
- at most ``WATCHFLOOR_HTTP_MAX_CONNECTIONS`` are open. A connection beyond the cap closes
  the oldest one still waiting for its first request head (a scrape or a submission then
  gets in however many idle connections are held), or, if every open connection has
  been served, is closed itself.

``watchfloor_http_connections`` is the number open; ``watchfloor_http_connections_closed_total``
counts the closings by reason (``header_timeout``, ``evicted``, ``refused``).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from aiohttp import web
from aiohttp.web_server import Server

from streams.pipeline.metrics import Metrics
from streams.settings import Settings

__all__ = ["ConnectionGuard", "guard_web_server"]


class ConnectionGuard:
    """A protocol factory in front of aiohttp's ``Server``."""

    def __init__(
        self,
        server: Server,
        *,
        max_connections: int,
        header_timeout: float,
        metrics: Metrics,
    ) -> None:
        self.server = server
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.metrics = metrics
        self._open: set[asyncio.BaseTransport] = set()
        self._waiting: OrderedDict[asyncio.BaseTransport, asyncio.TimerHandle] = OrderedDict()
        """Open connections without a first request yet, oldest first, with their deadline."""
        handle = server.request_handler

        async def served(request: web.BaseRequest) -> web.StreamResponse:
            if request.transport is not None:
                self._stop_waiting(request.transport)
            return await handle(request)

        # Handlers read it when they are made: this is in place before the first one.
        server.request_handler = served

    def __call__(self) -> asyncio.Protocol:
        return _Guarded(self)

    def opened(self, transport: asyncio.BaseTransport) -> bool:
        """Whether a new connection may stay; room is made for it if it can be."""
        if len(self._open) >= self.max_connections:
            if not self._waiting:
                transport.close()
                self._closed("refused")
                return False
            oldest, deadline = self._waiting.popitem(last=False)
            deadline.cancel()
            self._open.discard(oldest)
            oldest.close()
            self._closed("evicted")
        self._open.add(transport)
        loop = asyncio.get_running_loop()
        self._waiting[transport] = loop.call_later(self.header_timeout, self._expire, transport)
        self.metrics.http_connections.set(len(self._open))
        return True

    def lost(self, transport: asyncio.BaseTransport) -> None:
        self._open.discard(transport)
        self._stop_waiting(transport)
        self.metrics.http_connections.set(len(self._open))

    def _stop_waiting(self, transport: asyncio.BaseTransport) -> bool:
        """Stop waiting for ``transport``'s first request; whether it was still awaited."""
        deadline = self._waiting.pop(transport, None)
        if deadline is None:
            return False
        deadline.cancel()
        return True

    def _expire(self, transport: asyncio.BaseTransport) -> None:
        if self._stop_waiting(transport):
            transport.close()
            self._closed("header_timeout")

    def _closed(self, reason: str) -> None:
        self.metrics.http_connections_closed.labels(reason).inc()


class _Guarded(asyncio.Protocol):
    """One connection: aiohttp's handler is made when its first bytes come, so a connection
    that never sends any (closed at the cap or at the header timeout) costs no handler and
    no task."""

    __slots__ = ("guard", "inner", "live", "transport")

    def __init__(self, guard: ConnectionGuard) -> None:
        self.guard = guard
        self.inner: Any = None
        self.live = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.live = self.guard.opened(transport)

    def data_received(self, data: bytes) -> None:
        if not self.live:
            return
        if self.inner is None:
            self.inner = self.guard.server()
            self.inner.connection_made(self.transport)
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.inner is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.lost(self.transport)
        if self.inner is not None:
            self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()


class _GuardedSite(web.TCPSite):
    def __init__(self, runner: web.BaseRunner, settings: Settings, metrics: Metrics) -> None:
        super().__init__(runner, settings.web_host, settings.web_port)
        self._settings = settings
        self._metrics = metrics

    async def start(self) -> None:
        # TCPSite.start, with the guard as the protocol factory.
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None  # set up before sites start
        guard = ConnectionGuard(
            server,
            max_connections=self._settings.http_max_connections,
            header_timeout=self._settings.http_header_timeout,
            metrics=self._metrics,
        )
        self._server = await asyncio.get_running_loop().create_server(
            guard,
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )


def guard_web_server(faust_web: Any, settings: Settings, metrics: Metrics) -> None:
    """Put the guard and aiohttp's keep-alive timeout into Faust's aiohttp web driver
    (before it starts: its runner is set up and its site made in ``start_server``)."""
    runner = web.AppRunner(
        faust_web.web_app,
        access_log=None,
        keepalive_timeout=settings.http_keepalive_timeout,
    )
    faust_web._runner = runner
    faust_web._transport_handlers["tcp"] = lambda: _GuardedSite(runner, settings, metrics)
