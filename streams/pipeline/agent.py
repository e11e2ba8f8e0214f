"""What an agent is given: the interface every agent of the worker is installed through.

An agent is a function ``install(ctx: AgentContext) -> None`` that declares, on
``ctx.app``, the Faust agents, tables, timers, tasks and web pages it needs, reading its
knobs from ``ctx.settings`` (or settings of its own) and counting into ``ctx.metrics``'s
registry. The built-in agents (``streams.pipeline.agents``) are installed this way, and so
are the plugin agents that other packages register under the ``watchfloor.agents`` entry
points (``docs/extending.md``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import faust

from streams.pipeline.metrics import Metrics
from streams.pipeline.watchlist_topic import WatchlistFeed
from streams.settings import Settings
from streams.signals.matcher import Matcher
from streams.signals.watchlist import Watchlist

__all__ = ["AgentContext", "Install", "batches", "crash_worker_on_error"]

log = logging.getLogger(__name__)


@dataclass
class AgentContext:
    """The worker as an agent sees it while it is installed."""

    app: faust.App
    settings: Settings
    metrics: Metrics
    """Watchfloor's metrics; ``metrics.registry`` is where an agent registers its own,
    served on the worker's ``/metrics``."""
    watchlist: Watchlist
    matcher: Matcher
    make_topic: Callable[[str], faust.TopicT]
    watchlists: WatchlistFeed
    """``watchlists.subscribe(take)``: ``take(watchlist)`` runs, in the event loop, for
    each new valid watchlist pushed while the worker runs (``docs/watchlists.md``)."""
    owned: list[str] = field(default_factory=list)
    """Topics agents declared as theirs, created with the pipeline's before the worker starts."""
    _topics: dict[str, faust.TopicT] = field(default_factory=dict)

    def topic(self, name: str) -> faust.TopicT:
        """A topic of raw bytes (keys and values are encoded by the agent, e.g. with
        ``streams.codec.encode``), one object per name. Sends from it join no Kafka
        transaction: an agent's own output is at least once (``docs/extending.md``)."""
        if name not in self._topics:
            self._topics[name] = self.make_topic(name)
        return self._topics[name]

    def own_topic(self, name: str) -> faust.TopicT:
        """``topic(name)``, created before the worker starts when it does not exist, with the
        pipeline's partitions and replication (as ``osint.alerts`` is)."""
        if name not in self.owned:
            self.owned.append(name)
        return self.topic(name)

    @property
    def raw(self) -> faust.TopicT:
        return self.topic(self.settings.topic_raw)

    @property
    def signals(self) -> faust.TopicT:
        return self.topic(self.settings.topic_signals)

    @property
    def alerts(self) -> faust.TopicT:
        return self.topic(self.settings.topic_alerts)

    @property
    def deadletter(self) -> faust.TopicT:
        return self.topic(self.settings.topic_deadletter)


Install = Callable[[AgentContext], None]
"""An agent: declares what it needs on the context's app."""


async def batches(stream: faust.StreamT[Any], settings: Settings) -> AsyncIterator[list[Any]]:
    """Batches of events, as ``WATCHFLOOR_BATCH_SIZE`` and ``_BATCH_WITHIN`` allow, acknowledged
    only once the agent has processed them.

    Faust's ``take_events`` acknowledges a batch when its generator moves on or is closed,
    processed or not: an agent cancelled mid-batch (the worker stopping) would have its
    batch acknowledged when the generator is finalized, and its offsets committed on the
    way out, so the batch would never be processed. A batch the agent did not finish is
    therefore marked as acknowledged without telling the consumer, which keeps its offsets
    and every later one uncommitted: the next owner of the partition reads it again.
    """
    # take_events is on Faust's Stream, not on its StreamT protocol.
    source = cast(faust.Stream, stream).take_events(settings.batch_size, settings.batch_within)
    async for events in source:
        batch = list(events)
        try:
            yield batch
        except BaseException:  # GeneratorExit when the agent left mid-batch
            for event in batch:
                event.message.acked = True
            raise


@asynccontextmanager
async def crash_worker_on_error(app: faust.App, agent: str) -> AsyncIterator[None]:
    """A bug must stop the worker, not leave a live process that consumes nothing.

    Faust logs a crashed agent and carries on without it; the offsets of the failed batch
    are never committed, so a restarted worker (by its supervisor) retries the batch.
    """
    try:
        yield
    except Exception as exc:
        log.exception("agent crashed; stopping the worker", extra={"agent": agent})
        await app.crash(exc)
        raise
