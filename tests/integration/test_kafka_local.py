"""The local broker manager against a real JVM: errors a newcomer can hit, and the lifecycle.

Each test uses its own home and free ports, so it never touches a broker that the rest of
the integration suite (or a developer) is running.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.cli.kafka_local import KafkaSetupError, LocalKafka, run_kafka_command
from streams.settings import Settings
from tests.support.worker_process import free_port

pytestmark = pytest.mark.integration
needs_jvm = pytest.mark.skipif(
    shutil.which("java") is None or shutil.which("mvn") is None, reason="needs java and mvn"
)


def local_settings(home: Path) -> Settings:
    return Settings(home=home, kafka_port=free_port(), kafka_controller_port=free_port())


@pytest.fixture
def listener() -> Iterator[int]:
    """A port some other program is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_missing_java_and_maven_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    kafka = LocalKafka(local_settings(tmp_path / "home"))

    with pytest.raises(KafkaSetupError, match=r"`java` is not on PATH.*Java 17"):
        kafka.up()
    with pytest.raises(KafkaSetupError, match=r"`mvn` is not on PATH.*Maven"):
        kafka.ensure_jars()
    assert not kafka.pid_file.exists()


def test_cli_prints_setup_errors_with_exit_code_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    assert run_kafka_command("up", local_settings(tmp_path)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("watchfloor: `java` is not on PATH")
    assert len(err.strip().splitlines()) == 1


@needs_jvm
@pytest.mark.parametrize("field", ["kafka_port", "kafka_controller_port"])
def test_port_taken_by_another_program(tmp_path: Path, listener: int, field: str) -> None:
    kafka = LocalKafka(local_settings(tmp_path).model_copy(update={field: listener}))

    with pytest.raises(KafkaSetupError, match=rf"port {listener} .*WATCHFLOOR_{field.upper()}"):
        kafka.up()
    assert not kafka.status().running
    assert not kafka.pid_file.exists()


@needs_jvm
def test_up_status_down_are_idempotent_and_storage_is_reused(tmp_path: Path) -> None:
    kafka = LocalKafka(local_settings(tmp_path))
    assert not kafka.status().running
    try:
        first = kafka.up()
        assert first.running and first.pid is not None
        assert kafka.up() == first  # no second broker
        assert kafka.status() == first
        cluster = (first.data_dir / "meta.properties").read_text()
    finally:
        stopped = kafka.down()
    assert not stopped.running and stopped.pid is None
    assert kafka.down() == stopped
    try:
        again = kafka.up()
        assert again.running and again.pid != first.pid
        assert (again.data_dir / "meta.properties").read_text() == cluster  # not reformatted
    finally:
        kafka.down()
    assert not kafka.status().running


def test_up_is_skipped_when_an_external_cluster_is_configured(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(kafka_bootstrap="kafka.example:9092")

    assert run_kafka_command("up", settings) == 0
    assert "skipped" in capsys.readouterr().out
