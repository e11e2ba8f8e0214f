"""Alerts of a live worker delivered to a real Alertmanager, routed, silenced, and caught up.

Needs Debian's ``prometheus-alertmanager`` (``prometheus-alertmanager`` and ``amtool``),
which ``./scripts/test`` installs when missing; each test skips only when it is absent.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from streams.settings import Settings
from streams.sources.samplefeed import signal_reports
from tests.integration.conftest import wait_for
from tests.integration.test_pipeline import replay, run_pipeline
from tests.integration.test_plugins import T0, feed
from tests.support.alertmanager import Alertmanager, WebhookReceiver, alertmanager_config
from tests.support.worker_process import free_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CROSSING = "belarus-men-crossing-eu"
LAW = "belarus-service-law-change"


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian package `prometheus-alertmanager`)")
    return path


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def alertmanager(tmp_path: Path, webhook: WebhookReceiver) -> Iterator[Alertmanager]:
    manager = Alertmanager(
        _binary("prometheus-alertmanager"),
        tmp_path / "alertmanager",
        alertmanager_config(webhook.url),
        free_port(),
    )
    yield manager
    manager.stop()


CONFIG = REPO / "deploy" / "alertmanager" / "alertmanager.yml"


def _amtool(*args: str) -> str:
    proc = subprocess.run(
        [_binary("amtool"), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, f"amtool {' '.join(args)}:\n{proc.stdout}{proc.stderr}"
    return proc.stdout


def test_the_shipped_configuration_is_valid_and_routes_bursts_and_health_apart() -> None:
    assert "SUCCESS" in _amtool("check-config", str(CONFIG))

    def receivers(*labels: str) -> list[str]:
        out = _amtool("config", "routes", "test", f"--config.file={CONFIG}", *labels)
        return out.strip().split(",")

    burst = ["alertname=WatchfloorBurst", f"signal={CROSSING}", "region=baltics"]
    assert receivers(*burst, "severity=warning") == ["analysts-webhook"]
    assert receivers(*burst, "severity=critical") == ["watchfloor-critical", "analysts-webhook"]
    assert receivers("alertname=WatchfloorWorkerDown", "severity=critical") == ["operators-email"]


def surges() -> list[bytes]:
    """Two keys surge on one morning: men crossing in Eastern Europe, the service law in
    the Baltics; each opens a burst."""
    start = T0 + timedelta(days=1, hours=6)
    times = [start + timedelta(minutes=5 * i) for i in range(10)]
    return feed(
        signal_reports(1, CROSSING, "Eastern Europe", times)
        + signal_reports(2, LAW, "Baltics", times)
    )


def emitted(m: dict[str, float]) -> float:
    return sum(v for k, v in m.items() if k.startswith("watchfloor_alerts_emitted_total"))


def delivered(m: dict[str, float]) -> float:
    return m.get('watchfloor_alertmanager_alerts_total{outcome="delivered"}', 0.0)


def test_alerts_reach_alertmanager_with_their_labels_and_a_route_unless_silenced(
    settings: Settings, worker_factory, alertmanager: Alertmanager, webhook: WebhookReceiver
) -> None:
    alertmanager.start()
    silence_id = _amtool(
        f"--alertmanager.url={alertmanager.url}",
        "silence", "add", f"signal={LAW}", "region=baltics",
        "--author=analyst", "--comment=known: the law passed last week", "--duration=2h",
    ).strip()  # fmt: skip
    settings = settings.model_copy(update={"alertmanager_url": alertmanager.url})

    lines = surges()
    worker, _ = run_pipeline(settings, worker_factory, lines, alerts=2)
    worker.wait_until("every alert delivered", lambda m: delivered(m) == emitted(m) >= 2)

    shown = {a["labels"]["signal"]: a for a in alertmanager.alerts()}
    assert set(shown) == {CROSSING, LAW}
    crossing, law = shown[CROSSING], shown[LAW]
    assert crossing["labels"]["region"] == "eastern-europe"
    assert crossing["labels"]["alertname"] == "WatchfloorBurst"
    assert crossing["labels"]["detector"] and crossing["labels"]["burst_id"]
    assert crossing["labels"]["severity"] in {"info", "warning", "critical"}
    assert crossing["status"]["state"] == "active"
    assert "reports in" in crossing["annotations"]["summary"]
    assert crossing["annotations"]["evidence"].startswith("- ")
    assert law["status"]["state"] == "suppressed" and law["status"]["silencedBy"] == [silence_id]

    # The route sends the crossing on to the webhook; the silenced alert never goes.
    wait_for("the crossing's notification", lambda: webhook.alerts())
    time.sleep(3)  # a few group intervals: room for a wrong notification to arrive
    notified = {a["labels"]["signal"] for a in webhook.alerts()}
    assert notified == {CROSSING}, webhook.received


def test_a_worker_detects_while_alertmanager_is_down_and_delivers_when_it_is_back(
    settings: Settings, worker_factory, alertmanager: Alertmanager
) -> None:
    settings = settings.model_copy(
        update={"alertmanager_url": alertmanager.url, "alertmanager_max_backoff": 1.0}
    )
    worker = worker_factory(settings)
    lines = surges()
    replay(settings, lines)
    down = worker.wait_until(
        "alerts detected while Alertmanager is down",
        lambda m: (
            emitted(m) >= 2
            and m.get("watchfloor_alertmanager_failures_total", 0) >= 2
            and m.get("watchfloor_records_received_total") == len(lines)
        ),
    )
    assert delivered(down) == 0

    alertmanager.start()
    back = worker.wait_until("the alerts delivered", lambda m: delivered(m) == emitted(m))
    assert delivered(back) >= 2
    signals = {a["labels"]["signal"] for a in alertmanager.alerts()}
    assert signals == {CROSSING, LAW}
