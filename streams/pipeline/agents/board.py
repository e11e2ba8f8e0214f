"""The ``board`` agent: the analyst board and its JSON API on the worker's web server.

- ``GET /board/``: the page (``streams/data/board/``): recent alerts with their evidence,
  filters by signal, region and severity, and for a chosen key a chart of its counts with
  the expected count and the alerts; it polls the API, so it updates while the worker runs.
- ``GET /v1/alerts?signal=&region=&severity=&limit=``: the newest alerts first (limit
  1 to 1000, default 200), with the filters' choices (``facets``) and a ``version`` that
  rises with every change.
- ``GET /v1/keys/{key}/series``: the key's counts per bucket, expected counts and alerts.

Both API routes ask for the same ``Authorization: Bearer`` token as ``POST /v1/items``
when ``WATCHFLOOR_HTTP_TOKEN`` is set; the page passes on a token given in its address
(``/board/#token=...``). The board reads the alerts and signals topics with a consumer
of its own and no group, so every worker's board shows every partition's alerts; it keeps
serving what it has while Kafka is out of reach.
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import Any

from aiokafka.errors import KafkaError
from faust.web import Request, Response, View
from mode import Service
from pydantic import TypeAdapter, ValidationError

from streams.board import SEVERITIES, BoardView
from streams.consumers import group_less_consumer, stop_consumer
from streams.models import Alert, SignalHit, SignalRecord, WatermarkTick
from streams.pipeline.agent import AgentContext
from streams.settings import Settings
from streams.sources.submit import check_token

__all__ = ["install"]

log = logging.getLogger(__name__)
_signal_record: TypeAdapter[SignalHit | WatermarkTick] = TypeAdapter(SignalRecord)
ASSETS = {"board.js": "text/javascript", "board.css": "text/css"}


def install(ctx: AgentContext) -> None:
    app, settings = ctx.app, ctx.settings
    if not settings.board:
        return
    watchlist = ctx.watchlist
    step = min(s.size for s in watchlist.scales)
    view = BoardView(step, watchlist.detectors_of_key)
    ctx.watchlists.subscribe(lambda taken: setattr(view, "detectors_of", taken.detectors_of_key))
    feed = _BoardFeed(settings, view)
    token = settings.http_token.get_secret_value() if settings.http_token else None

    @app.task
    async def start_board() -> None:
        await app.add_runtime_dependency(feed)

    @app.page("/board/")
    class Page(View):
        async def get(self, request: Request) -> Response:
            return self.html(_asset("index.html"))

    @app.page("/board/{name}")
    class Asset(View):
        async def get(self, request: Request, name: str) -> Response:
            if name not in ASSETS:
                return self.json({"error": "not_found"}, status=404)
            return self.bytes(_asset(name).encode(), content_type=ASSETS[name])

    @app.page("/v1/alerts")
    class Alerts(View):
        async def get(self, request: Request) -> Response:
            refusal = check_token(request.headers.get("Authorization"), token)
            if refusal is not None:
                return self.json({"error": refusal.error, "detail": refusal.detail}, status=401)
            query = request.query
            severity = query.get("severity") or None
            limit = query.get("limit", "200")
            if severity not in (None, *SEVERITIES) or not limit.isdigit():
                return self.json(
                    {"error": "bad_request", "detail": "severity is info, warning or "
                     "critical; limit a whole number"},
                    status=400,
                )  # fmt: skip
            alerts = view.alerts(
                signal=query.get("signal") or None,
                region=query.get("region") or None,
                severity=severity,
                limit=max(1, min(int(limit), 1000)),
            )
            return self.json({"version": view.version, "facets": view.facets(), "alerts": alerts})

    @app.page("/v1/keys/{key}/series")
    class Series(View):
        async def get(self, request: Request, key: str) -> Response:
            refusal = check_token(request.headers.get("Authorization"), token)
            if refusal is not None:
                return self.json({"error": refusal.error, "detail": refusal.detail}, status=401)
            found = view.series(key)
            if found is None:
                return self.json({"error": "not_found", "detail": f"no key {key!r}"}, status=404)
            return self.json(found)


def _asset(name: str) -> str:
    return resources.files("streams.data").joinpath(f"board/{name}").read_text("utf-8")


class _BoardFeed(Service):
    """Reads the alerts and the signals topics from their start into the view."""

    def __init__(self, settings: Settings, view: BoardView, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.view = view

    @Service.task
    async def _read(self) -> None:
        settings = self.settings
        # No group: the board must see every partition and never take one from an agent.
        consumer = group_less_consumer(
            settings, settings.topic_alerts, settings.topic_signals, auto_offset_reset="earliest"
        )
        while not self.should_stop:
            try:
                await consumer.start()
                break
            except KafkaError as exc:
                log.warning("board: Kafka out of reach; retrying", extra={"error": str(exc)})
                await self.sleep(5.0)
        try:
            while not self.should_stop:
                batch = await consumer.getmany(timeout_ms=500, max_records=5000)
                for tp, records in batch.items():
                    for record in records:
                        self._take(tp.topic, record.value or b"")
        finally:
            await stop_consumer(consumer)

    def _take(self, topic: str, value: bytes) -> None:
        try:
            if topic == self.settings.topic_alerts:
                self.view.add_alert(Alert.model_validate_json(value))
                return
            record = _signal_record.validate_json(value)
        except ValidationError:
            return  # detection dead-letters what it cannot read; the board skips it
        if isinstance(record, SignalHit):
            self.view.add_hit(record)
