"""The ``feeds`` agent: polls the configured RSS/Atom feeds and sends new entries to raw.

Each feed is one key: a timer sends a poll tick per feed to ``osint.feeds.polls`` (keyed
by URL), and the agent handling that key's partition fetches the feed when it is due and
keeps its state (validators, entries seen, back-off) in the ``feed-state`` table, whose
changelog restores it after a restart or a rebalance. With several workers each feed is
thus polled by one of them. New entries are acknowledged by the broker before the table
records them as seen: a crash in between re-sends them (same ids), never loses them.
A feed's failure is logged, counted and backed off; it never stops the other feeds.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import faust

from streams.pipeline.agent import AgentContext
from streams.pipeline.http_body import read_limited
from streams.sources.feeds import FeedSource, FeedState, feed_items, feed_label

__all__ = ["install"]

log = logging.getLogger(__name__)
# Feeds larger than this are refused: a feed is a list of summaries, not an archive.
MAX_FEED_BYTES = 10 * 1_048_576


def install(ctx: AgentContext) -> None:
    app, settings, metrics = ctx.app, ctx.settings, ctx.metrics
    if not settings.feeds:
        return
    sources = {f.url: f for f in settings.feeds}
    raw_topic = ctx.raw
    polls = ctx.own_topic(settings.topic_feed_polls)
    state_table = app.Table(
        "feed-state",
        key_type=bytes,  # see the detect-state table: the changelog's serializers
        value_type=bytes,
        schema=faust.Schema(
            key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
        ),
        partitions=settings.partitions,
    )

    @app.timer(interval=min(settings.feed_interval, 30.0))
    async def tick() -> None:
        # Ticks are cheap; whether a feed is due is decided from its state.
        for url in sources:
            await polls.send(key=url.encode(), value=b"poll")

    @app.agent(polls, name="feeds")
    async def poll(stream: faust.StreamT[bytes]) -> None:
        timeout = aiohttp.ClientTimeout(total=settings.feed_timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async for event in stream.events():
                url = (event.key or b"").decode()
                source = sources.get(url)
                if source is None:
                    continue  # a feed removed from the configuration
                # Keys are bytes: the changelog restores them as bytes.
                state = FeedState.loads(state_table.get(event.key))
                if state.due(time.time()):
                    await _poll(session, source, state)
                    state_table[event.key] = state.dumps()

    async def _poll(session: aiohttp.ClientSession, source: FeedSource, state: FeedState) -> None:
        label = feed_label(source)
        now = time.time()
        headers = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.modified:
            headers["If-Modified-Since"] = state.modified
        failure: str | None = None
        try:
            async with session.get(source.url, headers=headers) as resp:
                if resp.status >= 400:
                    failure = f"HTTP {resp.status}"
                elif resp.status == 304:
                    state.succeeded(now, settings.feed_interval)
                    metrics.feed_polls.labels(label, "not_modified").inc()
                    return
                else:
                    body = await read_limited(resp.content, MAX_FEED_BYTES)
                    if len(body) > MAX_FEED_BYTES:
                        failure = f"larger than {MAX_FEED_BYTES} bytes"
                    etag, modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The exception's text may hold the URL and so a token: log its kind only.
            failure = type(exc).__name__
        if failure is not None:
            wait = state.failed(now, settings.feed_interval, settings.feed_max_backoff)
            metrics.feed_polls.labels(label, "error").inc()
            log.warning(
                "feed poll failed", extra={"feed": label, "error": failure, "retry_in": wait}
            )
            return
        items, ids = feed_items(body, source, state, now)
        sends = [await raw_topic.send(key=i.encode(), value=raw, force=True) for i, raw in items]
        await asyncio.gather(*sends)
        state.remember(ids, now)
        state.etag, state.modified = etag, modified
        state.succeeded(now, settings.feed_interval)
        metrics.feed_polls.labels(label, "ok").inc()
        metrics.feed_items.labels(label).inc(len(items))
