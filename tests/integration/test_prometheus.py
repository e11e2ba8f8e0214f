"""Prometheus against Watchfloor's rules, dashboard and a real /metrics endpoint.

``promtool`` checks and unit-tests ``deploy/prometheus/rules.yml``; then a real Prometheus,
configured from ``deploy/prometheus/prometheus.yml``, scrapes the project's own ``Metrics``
served on a fresh registry, evaluates the rules on what it scraped, and runs every query of
the Grafana dashboard. No Kafka broker is involved.

Needs the Debian package ``prometheus`` (``/usr/bin/prometheus`` and ``/usr/bin/promtool``);
each test skips only when its binary is not installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import ProxyHandler, build_opener

import pytest
import yaml
from prometheus_client import CollectorRegistry, start_http_server

from streams.pipeline.metrics import Metrics
from tests.support.worker_process import free_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "deploy" / "prometheus" / "prometheus.yml"
RULES = REPO / "deploy" / "prometheus" / "rules.yml"
RULE_TESTS = REPO / "deploy" / "prometheus" / "rules.test.yml"
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "watchfloor.json"

ALERTS = {
    "WatchfloorWorkerDown",
    "WatchfloorKafkaUnreachable",
    "WatchfloorDetectionNotReady",
    "WatchfloorDeadLetterRateHigh",
    "WatchfloorAccountingGap",
    "WatchfloorProcessingLatencyHigh",
    "WatchfloorWatermarkStalled",
    "WatchfloorSpikeAlerts",
    "WatchfloorAlertmanagerUnreachable",
}
# Localhost only: never through an HTTP proxy from the environment.
_http = build_opener(ProxyHandler({}))
T = TypeVar("T")


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian package `prometheus`)")
    return path


def _promtool(*args: str) -> str:
    proc = subprocess.run(
        [_binary("promtool"), *args], capture_output=True, text=True, timeout=120, check=False
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"promtool {' '.join(args)} failed:\n{output}"
    return output


def _rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


# --- promtool ---------------------------------------------------------------------------


def test_promtool_checks_config_and_rules() -> None:
    rules = _rules()
    assert {r["alert"] for r in rules if "alert" in r} == ALERTS
    out = _promtool("check", "rules", str(RULES))
    assert f"SUCCESS: {len(rules)} rules found" in out, out
    out = _promtool("check", "config", str(CONFIG))
    assert "is valid prometheus config file syntax" in out, out
    assert "SUCCESS: 1 rule files found" in out, out


def test_promtool_rule_unit_tests_pass() -> None:
    # A test file whose cases all expect silence would pass whatever the rules say: the
    # accounting-gap and dead-letter alerts must each be expected to fire somewhere.
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    firing = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert {
        "WatchfloorAccountingGap",
        "WatchfloorDeadLetterRateHigh",
        "WatchfloorKafkaUnreachable",
        "WatchfloorDetectionNotReady",
        "WatchfloorAlertmanagerUnreachable",
    } <= firing
    out = _promtool("test", "rules", str(RULE_TESTS))
    assert "SUCCESS" in out and "FAILED" not in out, out


# --- metric names -------------------------------------------------------------------------


def test_rules_and_dashboard_use_only_exposed_metric_names() -> None:
    registry = CollectorRegistry()
    _exercise(Metrics(registry))
    exposed = {s.name for family in registry.collect() for s in family.samples}
    used = set(
        re.findall(
            r"\bwatchfloor_[a-z0-9_]+",
            RULES.read_text() + RULE_TESTS.read_text() + DASHBOARD.read_text(),
        )
    )
    assert len(used) >= 10, used
    assert used <= exposed, f"not exposed by streams.pipeline.metrics: {sorted(used - exposed)}"


def _exercise(metrics: Metrics) -> None:
    """One child per labelled metric, so every sample name shows in the exposition."""
    metrics.records_received.inc()
    metrics.items_ingested.inc()
    metrics.items_deadlettered.labels("invalid_json").inc()
    metrics.signal_hits.labels("s").inc()
    metrics.hits_counted.labels("s").inc()
    metrics.duplicates_dropped.labels("s").inc()
    metrics.late_events.labels("s").inc()
    metrics.alerts_emitted.labels("s", "warning").inc()
    metrics.alertmanager_alerts.labels("delivered").inc()
    metrics.ingest_lag.labels("0").set(5)
    metrics.alertmanager_failures.inc()
    metrics.processing_latency.observe(0.2)


# --- a real Prometheus ----------------------------------------------------------------------


class Prometheus:
    """A ``prometheus`` child process and its HTTP API."""

    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.proc = proc
        self.url = url
        self.log = log

    def get(self, path: str, **params: str) -> Any:
        url = f"{self.url}{path}" + (f"?{urlencode(params)}" if params else "")
        try:
            with _http.open(url, timeout=5) as resp:
                body = json.load(resp)
        except HTTPError as exc:  # bad queries answer 400 with a JSON error
            with exc:
                body = json.load(exc)
        assert body.get("status") == "success", f"GET {url}: {body}"
        return body["data"]

    def query(self, promql: str) -> dict[str, float]:
        """Instant query: ``instance`` label (or the series' labels) → value."""
        data = self.get("/api/v1/query", query=promql)
        out = {}
        for series in data["result"]:
            labels = series["metric"]
            out[labels.get("instance", json.dumps(labels, sort_keys=True))] = float(
                series["value"][1]
            )
        return out

    def rules(self) -> dict[str, dict[str, Any]]:
        groups = self.get("/api/v1/rules")["groups"]
        return {r["name"]: r for g in groups for r in g["rules"]}

    def wait_until(
        self,
        check: str,
        probe: Callable[[], T],
        accept: Callable[[T], object] = bool,
        timeout: float = 30.0,
    ) -> T:
        """Poll ``probe()`` until ``accept`` takes its value; fail with the last one if not."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"prometheus exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                value = probe()
            except (OSError, AssertionError) as exc:
                last = exc
            else:
                if accept(value):
                    return value
                last = value
            time.sleep(0.25)
        pytest.fail(f"timed out waiting for {check}; last seen: {last!r}\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def target() -> Iterator[tuple[Metrics, str]]:
    """The project's real Metrics on a fresh registry, served over HTTP like the worker."""
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        yield metrics, f"127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def prometheus(
    tmp_path_factory: pytest.TempPathFactory, target: tuple[Metrics, str]
) -> Iterator[Prometheus]:
    binary = _binary("prometheus")
    work = tmp_path_factory.mktemp("prometheus")
    # The shipped config, pointed at the test target, at a 1s scrape and rule interval.
    config = yaml.safe_load(CONFIG.read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(RULES)]
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "watchfloor"]
    job["static_configs"] = [{"targets": [target[1]]}]
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))

    url = f"http://127.0.0.1:{free_port()}"
    log = work / "prometheus.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={work / 'prometheus.yml'}",
                f"--storage.tsdb.path={work / 'data'}",
                f"--web.listen-address={url.removeprefix('http://')}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    prom = Prometheus(proc, url, log)
    try:
        prom.wait_until("Prometheus to be ready", lambda: _ready(url))
        yield prom
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _ready(url: str) -> bool:
    with _http.open(f"{url}/-/ready", timeout=2) as resp:
        return bool(resp.status == 200)


def test_prometheus_scrapes_watchfloor_and_evaluates_the_rules(
    prometheus: Prometheus, target: tuple[Metrics, str]
) -> None:
    metrics, instance = target
    # 10 records read, 7 ingested, 2 dead-lettered: one is unaccounted for.
    metrics.records_received.inc(10)
    metrics.items_ingested.inc(7)
    metrics.items_deadlettered.labels("invalid_json").inc(2)
    metrics.alerts_emitted.labels("port-strike", "critical").inc()
    metrics.processing_latency.observe(0.2)
    metrics.watermark.set(1_700_000_000)

    # The scrape: exact values, under the job and instance labels the rules select on. One
    # wait for all of them: a scrape may have landed between the increments above.
    expected = {
        'up{job="watchfloor"}': 1.0,
        'watchfloor_records_received_total{job="watchfloor"}': 10.0,
        'watchfloor_items_ingested_total{job="watchfloor"}': 7.0,
        'watchfloor_items_deadlettered_total{job="watchfloor", reason="invalid_json"}': 2.0,
        'watchfloor_watermark_seconds{job="watchfloor"}': 1_700_000_000.0,
        'watchfloor_processing_latency_seconds_count{job="watchfloor"}': 1.0,
    }
    prometheus.wait_until(
        "the scraped values",
        lambda: {query: prometheus.query(query) for query in expected},
        lambda seen: seen == {query: {instance: value} for query, value in expected.items()},
    )

    # The rules file loaded, every rule evaluates cleanly, and the gap is seen: recorded
    # as 1 and the alert pending (it needs 10 minutes to fire).
    prometheus.wait_until(
        "the accounting gap recording rule",
        lambda: prometheus.query("watchfloor:accounting_gap") == {instance: 1.0},
    )

    rules = prometheus.wait_until(
        "every rule to evaluate",
        prometheus.rules,
        lambda rules: all(r["health"] == "ok" and r["lastEvaluation"] for r in rules.values()),
    )
    assert set(rules) == {r.get("alert") or r.get("record") for r in _rules()}
    assert set(rules) >= ALERTS
    prometheus.wait_until(
        "WatchfloorAccountingGap pending",
        lambda: (
            [
                a["labels"]["instance"]
                for a in prometheus.rules()["WatchfloorAccountingGap"]["alerts"]
                if a["state"] == "pending"
            ]
            == [instance]
        ),
    )
    assert prometheus.rules()["WatchfloorWorkerDown"]["state"] == "inactive"

    # The books balance again: the gap closes and the alert clears.
    metrics.items_ingested.inc()
    prometheus.wait_until(
        "the accounting gap to close",
        lambda: (
            prometheus.query("watchfloor:accounting_gap") == {instance: 0.0}
            and prometheus.rules()["WatchfloorAccountingGap"]["state"] == "inactive"
        ),
    )

    # A new spike alert fires the informational alert at once, its severity kept apart.
    metrics.alerts_emitted.labels("port-strike", "critical").inc()
    spike = prometheus.wait_until(
        "WatchfloorSpikeAlerts firing",
        lambda: [
            a["labels"]
            for a in prometheus.rules()["WatchfloorSpikeAlerts"]["alerts"]
            if a["state"] == "firing"
        ],
    )
    assert spike == [
        {
            "alertname": "WatchfloorSpikeAlerts",
            "job": "watchfloor",
            "signal": "port-strike",
            "detection_severity": "critical",
            "severity": "info",
        }
    ]


def test_every_dashboard_query_runs_on_prometheus(prometheus: Prometheus) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [
        (panel["title"], t["expr"])
        for panel in dashboard["panels"]
        for t in panel.get("targets", [])
    ]
    assert len(queries) >= 10
    for title, expr in queries:
        # Grafana's variables, as Grafana would substitute them.
        promql = expr.replace("$__rate_interval", "1m").replace("$instance", ".*")
        assert "$" not in promql, f"{title}: unknown variable in {expr}"
        prometheus.query(promql)  # a query Prometheus rejects fails here, with its error
