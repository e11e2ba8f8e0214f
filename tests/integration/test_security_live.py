"""SASL_PLAINTEXT with SCRAM-SHA-512 end to end, on a local broker of this module's own.

A worker and `watchfloor replay` log in, alerts come out and are read back by a client
that logs in too; a wrong password is refused at once with the reason; the password shows
up neither in the worker's log (at DEBUG, where Faust and aiokafka say the most) nor in
its /metrics.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import orjson
import pytest
import yaml
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError
from pydantic import SecretStr

from streams.cli.kafka_local import LocalKafka
from streams.kafka_security import client_security
from streams.offline import run_offline
from streams.settings import Settings
from streams.sources.samplefeed import signal_reports
from tests.integration.conftest import REPO, read_topic
from tests.support.worker_process import free_port, isolated_settings, settings_env

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("java") is None, reason="needs java"),
]

USER = "watchfloor-worker"
# Unique, so finding it in a log means it leaked; the rest checks the broker's config file
# and JAAS quoting (quote, backslash, comma for --add-scram, non-ASCII).
SECRET_CORE = f"pw{uuid.uuid4().hex}"
PASSWORD = f'{SECRET_CORE} "q\\,=ö'
SIGNAL = "belarus-men-crossing-eu"
T0 = datetime(2026, 6, 1, tzinfo=UTC)


def scram(**overrides: object) -> dict[str, object]:
    login = {
        "kafka_security_protocol": "SASL_PLAINTEXT",
        "kafka_sasl_mechanism": "SCRAM-SHA-512",
        "kafka_sasl_username": USER,
        "kafka_sasl_password": SecretStr(PASSWORD),
    }
    return {**login, **overrides}


@pytest.fixture(scope="module")
def scram_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    """A broker whose only client listener asks for SCRAM-SHA-512 (jars shared, as in
    conftest's ``bootstrap``)."""
    shared_libs = LocalKafka(Settings(home=REPO / ".watchfloor")).ensure_jars()
    home = tmp_path_factory.mktemp("kafka-scram-home")
    (home / "kafka").mkdir()
    (home / "kafka" / "libs").symlink_to(shared_libs)
    kafka = LocalKafka(
        Settings(home=home, kafka_port=free_port(), kafka_controller_port=free_port(), **scram())
    )
    kafka.up(timeout=120)
    try:
        yield kafka
    finally:
        kafka.down()


def watchlist_file(tmp_path: Path) -> Path:
    """The bundled watchlist, with a plain threshold so that a handful of items alert."""
    data = yaml.safe_load((REPO / "streams" / "data" / "watchlist.yaml").read_text())
    for signal in data["signals"]:
        if signal["id"] == SIGNAL:
            signal["detectors"] = [{"kind": "threshold", "count": 3}]
    path = tmp_path / "watchlist.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def feed(tmp_path: Path) -> tuple[Path, list[bytes]]:
    """Four reports within an hour, then an unrelated item a day on that closes the window."""
    items = signal_reports(
        7, SIGNAL, "Eastern Europe", [T0 + timedelta(minutes=10 * i) for i in range(4)]
    )
    # Event time is the second most advanced outlet's: two outlets move it on.
    items += [
        {"id": f"tick-{o}", "title": "Weather", "publisher": o,
         "published_at": (T0 + timedelta(days=1)).isoformat()}
        for o in ("Met Desk", "Weather Wire")
    ]  # fmt: skip
    lines = [orjson.dumps(i) for i in items]
    path = tmp_path / "feed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, lines


def watchfloor(settings: Settings, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A ``watchfloor`` command configured, like the worker, only by the environment."""
    env = {**os.environ, **settings_env(settings)}
    cmd = [sys.executable, "-m", "streams", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, cwd=cwd)


def replay_and_read_alerts(
    settings: Settings, worker_factory: Any, tmp_path: Path
) -> tuple[Any, subprocess.CompletedProcess[str]]:
    """A worker started and ``feed`` replayed, both with ``settings``; the alerts read back
    with them are those of the offline run. Returns the worker and the replay's run."""
    path, lines = feed(tmp_path)
    expected = run_offline(lines, settings)
    assert expected.alerts and {a.signal_id for a in expected.alerts} == {SIGNAL}

    worker = worker_factory(settings)
    done = watchfloor(settings, tmp_path, "replay", str(path))
    assert done.returncode == 0, done.stderr
    assert f"sent {len(lines)} records" in done.stdout
    worker.wait_until(
        "the alert",
        lambda m: (
            m.get("watchfloor_records_received_total") == len(lines)
            and sum(v for k, v in m.items() if k.startswith("watchfloor_alerts_emitted_total"))
            >= len(expected.alerts)
        ),
    )
    got = [orjson.loads(v) for _, v in read_topic(settings, settings.topic_alerts)]
    assert sorted(a["alert_id"] for a in got) == sorted(a.alert_id for a in expected.alerts)
    return worker, done


def test_worker_and_replay_log_in_with_scram_and_alerts_come_out(
    scram_broker: LocalKafka, worker_factory, tmp_path: Path
) -> None:
    settings = isolated_settings(
        scram_broker.bootstrap,
        "sasl",
        batch_within=0.1,
        watchlist=watchlist_file(tmp_path),
        log_level="DEBUG",
        **scram(),
    )
    worker, done = replay_and_read_alerts(settings, worker_factory, tmp_path)

    with urlopen(f"http://127.0.0.1:{settings.web_port}/metrics", timeout=5) as resp:
        metrics = resp.read().decode()
    worker.stop()  # flushes its log
    log = worker.log.read_text(errors="replace")
    assert '"level":"debug"' in log  # the log says all it can
    broker_log = scram_broker.log_file.read_text(errors="replace")
    for where, text in [
        ("worker log", log),
        ("/metrics", metrics),
        ("replay output", done.stdout + done.stderr),
        ("broker log", broker_log),
    ]:
        assert SECRET_CORE not in text, f"the SASL password is in the {where}"
    # The one place it has to be (the broker's own login) is readable by its owner only.
    assert SECRET_CORE in scram_broker.config.read_text()
    assert scram_broker.config.stat().st_mode & 0o077 == 0


def refused_at_once(
    wrong: Settings, reason: str, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """A client with the ``wrong`` settings is refused within seconds, ``reason`` logged;
    `replay` and `worker` say the same and exit with code 2, instead of retrying or
    hanging."""

    async def connect() -> None:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=wrong.bootstrap, request_timeout_ms=5000, **client_security(wrong)
        )
        try:
            await admin.start()
        finally:
            await admin.close()

    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        asyncio.run(connect())
    assert time.monotonic() - started < 10
    assert reason in caplog.text

    summary = (
        f"watchfloor: no connection to Kafka at {wrong.bootstrap} with "
        f"{wrong.kafka_security_protocol}; the reason is logged above"
    )
    for command in (["replay", str(feed(tmp_path)[0])], ["worker"]):
        done = watchfloor(wrong, tmp_path, *command)
        assert done.returncode == 2, done.stderr
        assert reason in done.stderr
        assert done.stderr.splitlines()[-1] == summary


def test_a_wrong_password_is_refused_at_once_with_the_reason(
    scram_broker: LocalKafka, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    wrong = isolated_settings(
        scram_broker.bootstrap, "sasl", **scram(kafka_sasl_password=SecretStr("nope"))
    )
    refused_at_once(wrong, "SaslAuthenticationFailed", caplog, tmp_path)
    assert "invalid credentials" in caplog.text
