"""The ``ingest`` agent: raw items to signal hits, watermark ticks and dead letters.

Not a Faust agent: raw items are nearly all of the traffic and skip Faust's per-event
path. A service of the worker (``RawIngest``, or ``IngestProcesses`` running it in
processes of their own) reads them in batches with a consumer group of its own and
hands each batch to the pure ``IngestProcessor``.
"""

from __future__ import annotations

import gc

import mode

from streams.pipeline.agent import AgentContext
from streams.pipeline.config import ingest_processor
from streams.pipeline.ingest_process import IngestProcesses
from streams.pipeline.raw_ingest import MetricsReports, RawIngest
from streams.signals.matcher import Matcher
from streams.signals.watchlist import Watchlist

__all__ = ["install"]


def install(ctx: AgentContext) -> None:
    app, settings = ctx.app, ctx.settings
    raw_ingest: mode.Service
    if settings.ingest_processes:
        raw_ingest = IngestProcesses(settings, ctx.metrics, settings.ingest_processes, app.crash)
    else:
        core = ingest_processor(settings, ctx.matcher)
        raw_ingest = RawIngest(settings, MetricsReports(ctx.metrics), core, app.crash)

        def take(watchlist: Watchlist) -> None:
            # Between two chunks of a batch: process() runs without yielding to the loop.
            core.matcher = Matcher(watchlist)

        ctx.watchlists.subscribe(take)

    @app.task
    async def start_ingest() -> None:
        # Once the worker is up (topics made, tables recovered), as Faust starts its agents:
        # a worker that fails to start has then sent nothing.
        # The ~100,000 objects of a started worker (modules, app, watchlist) live as long as
        # it does: frozen out of the collector, a full collection no longer scans them,
        # which took 30-60 ms, a pause every hit in flight would wait out.
        gc.collect()
        gc.freeze()
        await app.add_runtime_dependency(raw_ingest)
