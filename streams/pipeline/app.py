"""The Faust application: its settings, the producers' guarantees and the agents installed.

The agents themselves live in ``streams.pipeline.agents``, one module each, installed
through ``AgentContext`` (``streams.pipeline.agent``) like any plugin agent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint

import faust
from faust.sensors.prometheus import setup_prometheus_sensors
from faust.types.transports import ProducerT
from prometheus_client import CollectorRegistry

from streams.kafka_security import faust_credentials
from streams.pipeline.agent import AgentContext
from streams.pipeline.agents import install_agents
from streams.pipeline.health import add_kafka_probe
from streams.pipeline.http_guard import guard_web_server
from streams.pipeline.metrics import Metrics
from streams.pipeline.offsets import add_commit_guards
from streams.pipeline.watchlist_topic import Offsets, WatchlistFeed
from streams.settings import Settings
from streams.signals.matcher import Matcher
from streams.signals.watchlist import Watchlist, load_watchlist

__all__ = ["Watchfloor", "create_app"]

log = logging.getLogger(__name__)


@dataclass
class Watchfloor:
    """A configured app and the parts tests and commands reach for."""

    app: faust.App
    settings: Settings
    metrics: Metrics
    matcher: Matcher
    context: AgentContext
    """What the agents were installed with."""
    agents: list[str]
    """The agents installed, built-in ones first."""

    @property
    def topics(self) -> list[str]:
        """Topics agents own beside the pipeline's, to create before the worker starts."""
        return self.context.owned


def create_app(
    settings: Settings,
    registry: CollectorRegistry | None = None,
    plugins: Iterable[EntryPoint] | None = None,
    watchlist: Watchlist | None = None,
    watchlist_from: Offsets | None = None,
) -> Watchfloor:
    """The app with its agents: the built-in ones and the plugin agents ``settings.agents``
    names, found among ``plugins`` (by default the installed ``watchfloor.agents``).
    ``watchlist`` (default: the settings' file) is the one to start with; the watchlist
    topic is followed from ``watchlist_from`` (default: its start)."""
    registry = registry if registry is not None else CollectorRegistry()
    metrics = Metrics(registry)
    watchlist = watchlist or load_watchlist(settings.watchlist)
    matcher = Matcher(watchlist)
    feed = WatchlistFeed(settings, watchlist.version, watchlist_from or {})

    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{hp.strip()}" for hp in settings.bootstrap.split(",")],
        broker_credentials=faust_credentials(settings),
        store="memory://",
        # Beside the local broker's files, not in whatever folder the worker started in.
        datadir=str(settings.home / f"{settings.app_id}-data"),
        autodiscover=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        web_enabled=True,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        consumer_auto_offset_reset="earliest",
        processing_guarantee=settings.processing_guarantee,
        producer_acks=-1,
        broker_commit_interval=1.0,
        # A worker that dies without leaving the group holds its partitions until its
        # session times out; Faust's 60 s default stalls fail-over for a minute.
        broker_session_timeout=15.0,
        broker_heartbeat_interval=3.0,
        # Faust's default waits, on stop and rebalance, until every in-flight event is
        # acknowledged; after an agent crash that wait never ends and the worker hangs.
        # Unacknowledged offsets are not committed either way, so nothing is lost.
        stream_wait_empty=False,
    )
    setup_prometheus_sensors(app, registry=registry, name_prefix="faust")
    # Read from Faust's own flag at each scrape. Faust's gauges of rebalances count every
    # start but only the last one's return and end: a rebalance cut short by the next one
    # leaves them off by one for good.
    metrics.detect_ready.set_function(
        lambda: float(app.rebalancing_count > 0 and not app.rebalancing)
    )
    guard_web_server(app.web, settings, metrics)
    _idempotent_producers(app.producer)

    def topic(name: str) -> faust.TopicT:
        # Created beforehand by `ensure_topics`; records are bytes the agents encode.
        return _Untransacted(
            app,
            topics=[name],
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        )

    ctx = AgentContext(app, settings, metrics, watchlist, matcher, topic, feed)
    feed.subscribe(lambda taken: setattr(ctx, "watchlist", taken))

    @app.task
    async def follow_watchlist() -> None:
        await app.add_runtime_dependency(feed)

    agents = install_agents(ctx, settings.agents, plugins)

    @app.task
    async def announce_ready() -> None:
        # Once the app runs: agents started, web server listening.
        log.info(
            "worker ready",
            extra={
                "app_id": settings.app_id,
                "agents": agents,
                "web": f"http://{settings.web_host}:{settings.web_port}/",
                "watchlist": matcher.version,
            },
        )

    add_kafka_probe(app, settings, metrics)
    add_commit_guards(
        app, settings.commit_stall_timeout, metrics.partition_rereads.labels("stuck_commit")
    )
    return Watchfloor(
        app=app,
        settings=settings,
        metrics=metrics,
        matcher=matcher,
        context=ctx,
        agents=agents,
    )


class _Untransacted(faust.Topic):
    """A topic whose sends never join a Kafka transaction.

    With ``exactly_once`` Faust routes every send into the transaction of the partition it
    is sent to, which exists only on the worker that owns that partition: an ingest or
    HTTP send to a partition another worker owns would fail, and its output would wait in
    a transaction that only that worker's commits end. Ingest's output (hits, ticks, dead
    letters, raw items from HTTP and feeds) is idempotent downstream, since detection
    counts each item id once, so it is sent outside transactions, acknowledged before
    its input offsets commit: at least once. Alerts and detection state are what the
    transactions cover.
    """

    async def _get_producer(self) -> ProducerT:
        producer = self.app.producer
        await producer.maybe_start()
        return producer


def _idempotent_producers(producer: ProducerT) -> None:
    """acks=all and idempotence on every producer the worker starts, not only with
    exactly_once: a retried send is then written once, so a broker fail-over repeats no
    hit, dead letter or alert. Faust has no setting for it; its producer asks this hook
    for extra client settings when it makes each aiokafka producer."""
    producer._settings_extra = lambda: {"acks": "all", "enable_idempotence": True}  # type: ignore[attr-defined]
