"""Service configuration, read once at start-up from ``WATCHFLOOR_*`` environment variables.

Every field has a safe default for the embedded local broker, so a newcomer sets nothing.
The README's configuration table lists these fields; ``tests/unit/test_settings.py`` keeps
the two in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from streams.sources.feeds import FeedSource

__all__ = ["SASL_PROTOCOLS", "SSL_PROTOCOLS", "SecurityProtocol", "Settings"]

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})
SSL_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})


class Settings(BaseSettings):
    """All knobs of a Watchfloor process. Frozen: build a new one to change anything."""

    # Inputs stay out of error messages: they would print a password or token that fails
    # validation (pydantic shows the raw input, and for whole-model checks all of it).
    model_config = SettingsConfigDict(
        env_prefix="WATCHFLOOR_", frozen=True, extra="ignore", hide_input_in_errors=True
    )

    # --- Kafka -------------------------------------------------------------------------
    kafka_bootstrap: str | None = Field(
        default=None,
        description="host:port list of an existing Kafka cluster. Unset: the local broker "
        "started by `watchfloor kafka up` on 127.0.0.1:kafka_port is used.",
    )
    kafka_port: int = Field(default=19092, description="Port of the local broker.")
    kafka_controller_port: int = Field(
        default=19093, description="KRaft controller port of the local broker."
    )
    kafka_security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT",
        description="How every Kafka client connects: PLAINTEXT, SSL, SASL_PLAINTEXT or "
        "SASL_SSL. The local broker supports PLAINTEXT and SASL_PLAINTEXT with SCRAM.",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] = Field(
        default="SCRAM-SHA-512",
        description="SASL mechanism of the SASL_* protocols. PLAIN sends the password as "
        "it is: use it only with SASL_SSL.",
    )
    kafka_sasl_username: str | None = Field(
        default=None, min_length=1, description="SASL user; required by the SASL_* protocols."
    )
    kafka_sasl_password: SecretStr | None = Field(
        default=None,
        description="SASL password; required by the SASL_* protocols. Never logged.",
    )
    kafka_ssl_cafile: Path | None = Field(
        default=None,
        description="PEM file of the CAs that sign the brokers' certificates (SSL, "
        "SASL_SSL). Unset: the system's CAs.",
    )
    kafka_ssl_certfile: Path | None = Field(
        default=None,
        description="PEM client certificate, for brokers that ask for one (mutual TLS).",
    )
    kafka_ssl_keyfile: Path | None = Field(
        default=None,
        description="PEM private key of the client certificate, if not in the certfile.",
    )
    kafka_ssl_key_password: SecretStr | None = Field(
        default=None, description="Password of an encrypted client key. Never logged."
    )
    kafka_ssl_check_hostname: bool = Field(
        default=True,
        description="Check that a broker's certificate names the host connected to. Turn "
        "off only for test clusters whose certificates name no reachable host.",
    )
    home: Path = Field(
        default=Path(".watchfloor"),
        description="Folder for the local broker's jars, data and logs, and the worker's "
        "Faust data (git-ignored).",
    )

    kafka_probe_interval: float = Field(
        default=5.0,
        gt=0,
        description="Seconds between the worker's probes of the Kafka cluster "
        "(watchfloor_kafka_reachable); also how long a probe may take.",
    )

    # --- Topics ------------------------------------------------------------------------
    topic_raw: str = Field(default="osint.items.raw", description="Raw OSINT items in.")
    topic_signals: str = Field(default="osint.signals", description="Signal hits, keyed.")
    topic_alerts: str = Field(default="osint.alerts", description="Alerts out.")
    topic_feed_polls: str = Field(
        default="osint.feeds.polls", description="Poll ticks of the RSS/Atom feeds, by URL."
    )
    topic_deadletter: str = Field(
        default="osint.items.deadletter", description="Rejected input with its reason."
    )
    topic_watchlist: str = Field(
        default="osint.watchlist",
        description="Compacted topic of watchlists pushed with `watchfloor watchlist PATH "
        "--push`; every worker takes the newest valid one while it runs.",
    )
    partitions: int = Field(
        default=1, ge=1, description="Partitions of the topics the worker creates."
    )
    replication_factor: int = Field(
        default=1, ge=1, description="Replication factor of the topics the worker creates."
    )

    # --- Worker ------------------------------------------------------------------------
    app_id: str = Field(default="watchfloor", description="Consumer group and state prefix.")
    web_port: int = Field(default=6066, description="HTTP port of the worker (/metrics).")
    web_host: str = Field(default="127.0.0.1", description="Bind address of the worker.")
    http_max_connections: int = Field(
        default=1000,
        ge=1,
        description="Open HTTP connections the worker keeps at most; one more closes the "
        "oldest still waiting for its first request.",
    )
    http_header_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a new HTTP connection has to send its first request head.",
    )
    http_keepalive_timeout: float = Field(
        default=75.0,
        gt=0,
        description="Seconds an HTTP connection may stay idle between requests (longer "
        "than a scrape interval, so that Prometheus keeps its connection).",
    )
    processing_guarantee: Literal["at_least_once", "exactly_once"] = Field(
        default="at_least_once",
        description="at_least_once: a crash may repeat an alert (same alert_id), never lose "
        "one. exactly_once: alerts and detection state are written in Kafka transactions "
        "with the input offsets; read the alerts topic with isolation.level=read_committed.",
    )
    commit_stall_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a partition's offset commits may wait on one missing record "
        "before the worker re-reads the partition from its committed offset.",
    )
    board: bool = Field(
        default=True,
        description="Serve the analyst board at /board/ and its API (GET /v1/alerts, "
        "GET /v1/keys/{key}/series) on the worker's web port; it reads the alerts and "
        "signals topics with a consumer of its own.",
    )
    board_url: str | None = Field(
        default=None,
        description="The board's address as people reach it (e.g. "
        "http://watchfloor.example:6066/board/): each Alertmanager alert links to its key's "
        "chart there.",
    )
    alertmanager_url: str | None = Field(
        default=None,
        description="Base URL of a Prometheus Alertmanager (e.g. http://127.0.0.1:9093) the "
        "worker posts every alert to (API v2), retrying with back-off while it is out of "
        "reach; unset, alerts stay on the alerts topic.",
    )
    alertmanager_resolve_after: float = Field(
        default=21_600.0,
        gt=0,
        description="Seconds after its latest update that Alertmanager resolves a burst's "
        "alert (its endsAt); each update refreshes it.",
    )
    alertmanager_max_backoff: float = Field(
        default=60.0,
        gt=0,
        description="Longest wait in seconds between attempts to reach Alertmanager.",
    )
    agents: list[str] = Field(
        default_factory=list,
        description="Plugin agents the worker runs besides the built-in ones, by the name "
        "their package gives them under the watchfloor.agents entry points, as a JSON list "
        '(e.g. ["correlation"]); `watchfloor agents` lists those installed.',
    )
    ingest_processes: int = Field(
        default=1,
        ge=0,
        le=64,
        description="Processes of its own the ingest agent runs in, each a consumer of the raw "
        "topic, so a worker uses more cores than one; 0 runs it in the worker's process. A worker "
        "keeps 1 + this many cores busy: give each process a core.",
    )
    batch_size: int = Field(
        default=2000,
        ge=1,
        description="Max records a Faust agent (detect, Alertmanager, plugins) takes in one batch.",
    )
    ingest_batch_size: int = Field(
        default=10_000,
        ge=1,
        description="Max raw records the ingest agent takes in one batch. A backlog is read in "
        "large batches, each committed while the next is processed; at a steady rate a batch "
        "is what arrived since the last.",
    )
    batch_within: float = Field(
        default=0.01,
        gt=0,
        description="Seconds the detect agent waits to fill a batch (a hit's latency grows by "
        "up to this much); ingest takes what has arrived at once.",
    )
    http_token: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Bearer token POST /v1/items requires, 16 characters or more. Unset: no "
        "token is asked for.",
    )
    http_max_body: int = Field(
        default=1_048_576, ge=1, description="Largest POST /v1/items body, bytes."
    )
    http_max_items: int = Field(
        default=1_000, ge=1, description="Most items in one POST /v1/items request."
    )
    feeds: list[FeedSource] = Field(
        default_factory=list,
        description="RSS/Atom feeds the worker polls, as a JSON list of URLs or of "
        'objects {"url", "name", "region", "category", "language"}. Empty: none.',
    )
    feed_interval: float = Field(
        default=300.0, gt=0, description="Seconds between polls of a feed."
    )
    feed_timeout: float = Field(default=20.0, gt=0, description="Seconds a feed fetch may take.")
    feed_max_backoff: float = Field(
        default=3600.0, gt=0, description="Longest wait, seconds, after repeated feed errors."
    )
    watchlist: Path | None = Field(
        default=None, description="Watchlist YAML. Unset: the bundled five-signal watchlist."
    )
    log_level: str = Field(default="INFO", description="Log level of Watchfloor's own logs.")

    # --- Windows and detection -----------------------------------------------------------
    # Window sizes, steps and allowed lateness are the watchlist's `scales`.
    window_grace: float = Field(
        default=900.0,
        ge=0,
        description="Seconds after a window's end before it is first judged; reports "
        "after that revise it within its scale's lateness.",
    )
    max_event_ahead: float = Field(
        default=86400.0,
        ge=0,
        description="Seconds an item's published_at may run ahead of when its record "
        "reached Kafka; items further ahead are dead-lettered as future_timestamp. 0: no "
        "limit.",
    )
    watermark_outlets: int = Field(
        default=2,
        ge=1,
        description="A raw partition's event time is the highest published_at of its "
        "Nth most advanced publisher: with 2, one outlet's clock running ahead cannot make "
        "other reports late; 1: the plain maximum.",
    )
    idle_partition_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds without records after which a raw partition stops holding "
        "event time back (its reports arriving later may then be late).",
    )
    dedup_horizon: float = Field(
        default=7 * 86400.0,
        ge=0,
        description="Seconds within which a second delivery of one item id counts once "
        "(of a key's latest 500 ids).",
    )
    near_duplicate_horizon: float = Field(
        default=86400.0,
        ge=0,
        description="Seconds within which a copy of a report (other outlet, url or id) "
        "counts once; 0 turns near-duplicate detection off.",
    )
    near_duplicate_similarity: float = Field(
        default=0.6,
        gt=0,
        le=1,
        description="Estimated Jaccard similarity of texts at which a report is a copy.",
    )
    idle_key_ttl: float = Field(
        default=30 * 86400.0,
        gt=0,
        description="Event-time seconds after which an idle key's state is dropped.",
    )
    evidence_limit: int = Field(default=20, ge=1, description="Items kept as evidence per window.")
    max_keys_per_signal: int = Field(
        default=20_000,
        ge=1,
        description="Keys (regions, or publishers) one signal may hold, each partition "
        "its share: reports for further keys count under the signal's other key "
        "(watchfloor_keys_folded_total).",
    )
    state_max_bytes: int = Field(
        default=256 * 1024,
        ge=16 * 1024,
        le=900 * 1024,
        description="Largest a key's state entry is written (under Kafka's 1 MB message "
        "limit): past it the entry keeps fewer evidence items per hour, down to one "
        "(watchfloor_state_trimmed_total); counts and dedup state are never cut.",
    )

    @field_validator("feeds", mode="before")
    @classmethod
    def _feed_urls(cls, value: object) -> object:
        # A bare URL is a feed with nothing else configured.
        if isinstance(value, list):
            return [{"url": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile")
    @classmethod
    def _readable_file(cls, value: Path | None) -> Path | None:
        # Fail at start-up naming the file, not at the first TLS handshake.
        if value is not None and not value.is_file():
            raise ValueError(f"{value} is not a file")
        return value

    @model_validator(mode="after")
    def _security_consistent(self) -> Self:
        # Errors name the variables, as the operator sets them. Credentials given for a
        # protocol that would ignore them are refused: the operator believes the
        # connection is authenticated or encrypted when it is not.
        protocol = f"WATCHFLOOR_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol}"
        sasl = self.kafka_security_protocol in SASL_PROTOCOLS
        has_user = self.kafka_sasl_username is not None
        has_password = self.kafka_sasl_password is not None
        if sasl and not (has_user and has_password):
            raise ValueError(
                f"{protocol} needs WATCHFLOOR_KAFKA_SASL_USERNAME and "
                "WATCHFLOOR_KAFKA_SASL_PASSWORD"
            )
        if not sasl and (has_user or has_password):
            raise ValueError(
                f"WATCHFLOOR_KAFKA_SASL_USERNAME/PASSWORD are set but {protocol} does not "
                "use SASL; set it to SASL_PLAINTEXT or SASL_SSL"
            )
        tls_files = {
            "WATCHFLOOR_KAFKA_SSL_CAFILE": self.kafka_ssl_cafile,
            "WATCHFLOOR_KAFKA_SSL_CERTFILE": self.kafka_ssl_certfile,
            "WATCHFLOOR_KAFKA_SSL_KEYFILE": self.kafka_ssl_keyfile,
            "WATCHFLOOR_KAFKA_SSL_KEY_PASSWORD": self.kafka_ssl_key_password,
        }
        given = [name for name, value in tls_files.items() if value is not None]
        if given and self.kafka_security_protocol not in SSL_PROTOCOLS:
            raise ValueError(
                f"{', '.join(given)} set but {protocol} does not use TLS; set it to SSL or SASL_SSL"
            )
        if self.kafka_ssl_certfile is None and (
            self.kafka_ssl_keyfile is not None or self.kafka_ssl_key_password is not None
        ):
            raise ValueError(
                "WATCHFLOOR_KAFKA_SSL_KEYFILE and WATCHFLOOR_KAFKA_SSL_KEY_PASSWORD belong to a "
                "client certificate: set WATCHFLOOR_KAFKA_SSL_CERTFILE too"
            )
        return self

    @property
    def bootstrap(self) -> str:
        """The bootstrap servers the process connects to."""
        return self.kafka_bootstrap or f"127.0.0.1:{self.kafka_port}"

    @property
    def ingest_group(self) -> str:
        """The consumer group of the ingest agent, which reads the raw topic; the detect
        agent reads in Faust's group, ``app_id``."""
        return f"{self.app_id}-ingest"

    @property
    def uses_local_broker(self) -> bool:
        return self.kafka_bootstrap is None
