"""The ``http-items`` agent: ``POST /v1/items`` on the web server, items onto the raw topic.

The view only moves bytes; what to accept is decided by ``streams.sources.submit``.
Accepted items are produced to the raw topic and acknowledged by the broker (acks=all)
before the answer, so 202 means durably queued; they are then ingested like any other
raw record. Rejected items go to the dead-letter topic with ``source: http``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from faust.web import Request, Response, View

from streams.codec import encode
from streams.models import DeadLetter
from streams.pipeline.agent import AgentContext
from streams.pipeline.http_body import read_limited
from streams.sources.decode import Rejection
from streams.sources.submit import Refusal, check_request, split_submission

__all__ = ["PATH", "install"]

PATH = "/v1/items"
log = logging.getLogger(__name__)


def install(ctx: AgentContext) -> None:
    app, settings, metrics = ctx.app, ctx.settings, ctx.metrics
    raw_topic, deadletter_topic = ctx.raw, ctx.deadletter
    token = settings.http_token.get_secret_value() if settings.http_token else None

    async def dead_letter(raw: bytes, rejection: Rejection) -> Any:
        record = DeadLetter.build(rejection.reason, rejection.error, raw, source="http", topic=PATH)
        return await deadletter_topic.send(value=encode(record), force=True)

    @app.page(PATH)
    class Items(View):
        async def post(self, request: Request) -> Response:
            headers = request.headers
            length = headers.get("Content-Length")
            refusal = check_request(
                headers.get("Authorization"),
                headers.get("Content-Type"),
                int(length) if length and length.isdigit() else None,
                token=token,
                max_body=settings.http_max_body,
            )
            if refusal is None:
                content = request.content  # type: ignore[attr-defined]
                body = await read_limited(content, settings.http_max_body)
                if len(body) > settings.http_max_body:
                    refusal = Refusal(
                        413, "too_large", f"body exceeds {settings.http_max_body} bytes"
                    )
                else:
                    return await self._submit(body)
            metrics.http_requests.labels(str(refusal.status)).inc()
            return self.json(
                {"error": refusal.error, "detail": refusal.detail}, status=refusal.status
            )

        async def _submit(self, body: bytes) -> Response:
            outcome = split_submission(
                body,
                max_items=settings.http_max_items,
                received_at=time.time(),
                max_ahead=settings.max_event_ahead,
            )
            if isinstance(outcome, Refusal):
                metrics.http_requests.labels(str(outcome.status)).inc()
                return self.json(
                    {"error": outcome.error, "detail": outcome.detail}, status=outcome.status
                )
            if outcome.malformed is not None:
                await (await dead_letter(body, outcome.malformed))
                metrics.http_items.labels("rejected").inc()
                metrics.http_requests.labels("400").inc()
                return self.json(
                    {"error": outcome.malformed.reason, "detail": outcome.malformed.error},
                    status=400,
                )
            sends = [
                await raw_topic.send(key=item_id.encode(), value=raw, force=True)
                for item_id, raw in outcome.accepted
            ]
            sends += [await dead_letter(raw, rejection) for _, raw, rejection in outcome.rejected]
            await asyncio.gather(*sends)  # acknowledged by the broker before we answer
            metrics.http_items.labels("accepted").inc(len(outcome.accepted))
            metrics.http_items.labels("rejected").inc(len(outcome.rejected))
            accepted = [item_id for item_id, _ in outcome.accepted]
            if not outcome.rejected:
                metrics.http_requests.labels("202").inc()
                return self.json({"accepted": accepted}, status=202)
            metrics.http_requests.labels("400").inc()
            errors = [
                {"index": index, "reason": r.reason, "error": r.error}
                for index, _, r in outcome.rejected
            ]
            log.info("items rejected", extra={"rejected": len(errors), "accepted": len(accepted)})
            return self.json({"accepted": accepted, "rejected": errors}, status=400)
