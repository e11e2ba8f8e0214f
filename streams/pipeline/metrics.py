"""Watchfloor's own Prometheus metrics, on a registry passed in (tests use a fresh one).

Accounting identity an operator can check on the dashboard, per worker group:

    watchfloor_records_received_total
        == watchfloor_items_ingested_total + sum(watchfloor_items_deadlettered_total)

For POST /v1/items, every item read is counted once in ``watchfloor_http_items_total``:
``outcome="accepted"`` items are on the raw topic (and so counted again above when
ingested), ``outcome="rejected"`` ones on the dead-letter topic. Requests refused before
their items are read (401, 413, 415) show in ``watchfloor_http_requests_total{status}``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["Metrics"]

# Produce-to-count latency: from milliseconds to minutes, finest around the 100 ms a hit
# should take at a steady load, so a quantile interpolated there is worth quoting.
LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
)  # fmt: skip


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.records_received = Counter(
            "watchfloor_records_received",
            "Records read from the raw topic.",
            registry=registry,
        )
        self.records_resent = Counter(
            "watchfloor_records_resent",
            "Raw records sent again from the dead-letter topic (watchfloor deadletters "
            "--resend), counted among the records read.",
            registry=registry,
        )
        self.ingest_partitions = Gauge(
            "watchfloor_ingest_partitions",
            "Raw topic partitions this worker's ingest agent reads.",
            registry=registry,
        )
        self.ingest_lag = Gauge(
            "watchfloor_ingest_lag_records",
            "Raw records behind the end of each raw partition this worker's ingest reads, "
            "after its latest batch from it: what is left to process.",
            ["partition"],
            registry=registry,
        )
        self.ingest_assignments = Counter(
            "watchfloor_ingest_assignments",
            "Raw topic partition assignments the ingest agent took (one per rebalance).",
            registry=registry,
        )
        self.detect_ready = Gauge(
            "watchfloor_detect_ready",
            "1 while detection (the worker's Faust agents) has its partitions and their "
            "state recovered; 0 before its first assignment and through each rebalance.",
            registry=registry,
        )
        self.items_ingested = Counter(
            "watchfloor_items_ingested",
            "Raw items decoded, validated and matched.",
            registry=registry,
        )
        self.items_deadlettered = Counter(
            "watchfloor_items_deadlettered",
            "Records sent to the dead-letter topic, by reason.",
            ["reason"],
            registry=registry,
        )
        self.signal_hits = Counter(
            "watchfloor_signal_hits",
            "Signal hits produced by matching, by signal.",
            ["signal"],
            registry=registry,
        )
        self.hits_counted = Counter(
            "watchfloor_hits_counted",
            "Signal hits counted into windows, by signal.",
            ["signal"],
            registry=registry,
        )
        self.duplicates_dropped = Counter(
            "watchfloor_duplicates_dropped",
            "Second deliveries of an item id within the dedup horizon, counted once.",
            ["signal"],
            registry=registry,
        )
        self.syndicated_copies = Counter(
            "watchfloor_syndicated_copies",
            "Signal hits that copy a report already counted (near-duplicates), by signal.",
            ["signal"],
            registry=registry,
        )
        self.late_events = Counter(
            "watchfloor_late_events",
            "Signal hits that arrived after their windows closed, by signal.",
            ["signal"],
            registry=registry,
        )
        self.alerts_emitted = Counter(
            "watchfloor_alerts_emitted",
            "Alerts published, by signal and severity.",
            ["signal", "severity"],
            registry=registry,
        )
        self.alerts_already_sent = Counter(
            "watchfloor_alerts_already_sent",
            "Alerts not sent again because the alerts topic held their id when this worker "
            "took their partition (a predecessor sent them, then died before its state "
            "recorded them).",
            registry=registry,
        )
        self.alerts_suppressed = Counter(
            "watchfloor_alerts_suppressed",
            "Crossings that would have opened a burst, held back by a detector's re-alert rule.",
            registry=registry,
        )
        self.crossings_merged = Counter(
            "watchfloor_crossings_merged",
            "Crossings merged into a key's open burst without an alert of their own.",
            registry=registry,
        )
        self.windows_revised = Counter(
            "watchfloor_windows_revised",
            "Times a key's judged windows of one time scale were judged again because "
            "late reports revised them.",
            registry=registry,
        )
        self.http_requests = Counter(
            "watchfloor_http_requests",
            "POST /v1/items requests answered, by status code.",
            ["status"],
            registry=registry,
        )
        self.http_items = Counter(
            "watchfloor_http_items",
            "Items read from POST /v1/items: accepted onto the raw topic, or rejected onto "
            "the dead-letter topic.",
            ["outcome"],
            registry=registry,
        )
        self.feed_polls = Counter(
            "watchfloor_feed_polls",
            "Polls of RSS/Atom feeds, by feed (host and path) and outcome.",
            ["feed", "outcome"],
            registry=registry,
        )
        self.feed_items = Counter(
            "watchfloor_feed_items",
            "New feed entries sent to the raw topic, by feed.",
            ["feed"],
            registry=registry,
        )
        self.processing_latency = Histogram(
            "watchfloor_processing_latency_seconds",
            "From the raw record's broker timestamp to its hit being counted.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.active_keys = Gauge(
            "watchfloor_active_keys",
            "Signal keys with detection state on this worker.",
            registry=registry,
        )
        self.http_connections = Gauge(
            "watchfloor_http_connections",
            "HTTP connections open to the worker.",
            registry=registry,
        )
        self.http_connections_closed = Counter(
            "watchfloor_http_connections_closed_total",
            "HTTP connections the worker closed: no request head in time "
            "(header_timeout), the oldest waiting one at the cap (evicted), or a new one "
            "at the cap with none waiting (refused).",
            ["reason"],
            registry=registry,
        )
        self.keys_folded = Counter(
            "watchfloor_keys_folded_total",
            "Hits counted under their signal's other key because the signal held "
            "WATCHFLOOR_MAX_KEYS_PER_SIGNAL keys (its share of them in the hit's partition).",
            ["signal"],
            registry=registry,
        )
        self.state_trimmed = Counter(
            "watchfloor_state_trimmed_total",
            "Key state entries written with fewer evidence items per hour, to fit "
            "WATCHFLOOR_STATE_MAX_BYTES.",
            registry=registry,
        )
        self.state_writes = Counter(
            "watchfloor_state_writes_total",
            "Key states written to the detection table and its changelog: each key changed "
            "since the last offset commit, once.",
            registry=registry,
        )
        self.watermark = Gauge(
            "watchfloor_watermark_seconds",
            "Event-time watermark of detection (Unix time).",
            registry=registry,
        )
        self.kafka_reachable = Gauge(
            "watchfloor_kafka_reachable",
            "1 while the worker's last probe of the Kafka cluster was answered, else 0.",
            registry=registry,
        )
        self.kafka_outages = Counter(
            "watchfloor_kafka_outages",
            "Times the Kafka cluster stopped answering the worker's probe.",
            registry=registry,
        )
        self.alertmanager_alerts = Counter(
            "watchfloor_alertmanager_alerts",
            "Alerts posted to Alertmanager, by outcome: delivered, refused (a 4xx answer, not "
            "retried) or invalid (not an alert record).",
            ["outcome"],
            registry=registry,
        )
        self.alertmanager_failures = Counter(
            "watchfloor_alertmanager_failures",
            "Posts to Alertmanager that failed (unreachable, timeout, 5xx) and are retried.",
            registry=registry,
        )
        self.alertmanager_lag = Gauge(
            "watchfloor_alertmanager_lag_seconds",
            "From the latest delivered alert's generation to its delivery to Alertmanager.",
            registry=registry,
        )
        self.partition_rereads = Counter(
            "watchfloor_partition_rereads",
            "Times a partition was read again from a record Faust lost on its way to an "
            "agent: at once by detection, which saw a later offset arrive "
            "(cause=missing_record), or when offset commits stayed stuck behind it for "
            "WATCHFLOOR_COMMIT_STALL_TIMEOUT (cause=stuck_commit).",
            ["cause"],
            registry=registry,
        )
