"""A real single-node Apache Kafka broker (KRaft mode) for local development and tests.

Docker is not assumed: the broker runs from Apache's own jars, resolved from Maven Central
by ``streams/data/kafka/pom.xml``, so a newcomer needs only Java 17+ and Maven. Everything the
broker owns (jars, config, data, logs, pid file) lives under ``<home>/kafka``.

By default clients connect in PLAINTEXT. With ``kafka_security_protocol=SASL_PLAINTEXT`` and
a SCRAM mechanism the client listener asks for that SCRAM login instead, and the user is
created when the storage is formatted; the KRaft controller listener stays PLAINTEXT on
127.0.0.1 (SCRAM cannot authenticate to controllers, which hold the credentials).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TypeVar

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from streams.kafka_security import client_security, sasl_login
from streams.settings import Settings

__all__ = ["BrokerStatus", "KafkaSetupError", "LocalKafka", "run_kafka_command"]

T = TypeVar("T")

DEFAULT_POM = Path(str(resources.files("streams.data").joinpath("kafka/pom.xml")))
"""Shipped in the package, so ``kafka up`` works from an installed wheel too."""
JVM_OPTS = ("-Xms256m", "-Xmx1g", "-XX:+UseG1GC")
SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{s.kafka_controller_port}
listeners=PLAINTEXT://127.0.0.1:{s.kafka_port},CONTROLLER://127.0.0.1:{s.kafka_controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{s.kafka_port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={data_dir}
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
"""
# The client listener as SASL_PLAINTEXT; these keys replace or follow SERVER_PROPERTIES'.
SASL_LISTENER = "SASL_PLAINTEXT"
SASL_PROPERTIES = {
    "listeners": "{listener}://127.0.0.1:{s.kafka_port},"
    "CONTROLLER://127.0.0.1:{s.kafka_controller_port}",
    "advertised.listeners": "{listener}://127.0.0.1:{s.kafka_port}",
    "listener.security.protocol.map": "{listener}:{listener},CONTROLLER:PLAINTEXT",
    # The default inter-broker listener is PLAINTEXT, which no longer exists.
    "inter.broker.listener.name": "{listener}",
    "sasl.enabled.mechanisms": "{s.kafka_sasl_mechanism}",
    "sasl.mechanism.inter.broker.protocol": "{s.kafka_sasl_mechanism}",
}
SCRAM_ITERATIONS = 4096  # Kafka's default, and SCRAM-SHA-512's minimum
LOG4J2_PROPERTIES = """\
appender.file.type=File
appender.file.name=FILE
appender.file.fileName={log_file}
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=FILE
"""
# Config dumps and per-request / per-partition chatter (x50 for __consumer_offsets). The
# group coordinator stays at INFO: its lines explain consumer rebalances.
NOISY_LOGGERS = (
    "kafka.request.logger",
    "state.change.logger",
    "kafka.log.LogCleaner",
    "kafka.cluster.Partition",
    "org.apache.kafka.common.config.AbstractConfig",
    "org.apache.kafka.clients",
    "org.apache.kafka.common.network",
    "org.apache.kafka.storage",
    "org.apache.kafka.raft",
    "org.apache.kafka.controller.PartitionChangeBuilder",
    "org.apache.kafka.controller.ReplicationControlManager",
    "org.apache.kafka.coordinator.common.runtime.CoordinatorRuntime",
)


class KafkaSetupError(Exception):
    """One-line, user-facing reason why the local broker cannot be started or reached."""


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    pid: int | None
    bootstrap: str
    log_file: Path
    data_dir: Path


class LocalKafka:
    """Starts, stops and inspects the local broker; safe to call repeatedly, from any process.

    It always manages the broker on ``127.0.0.1:kafka_port``; whether that broker is wanted
    at all (``kafka_bootstrap`` unset) is the caller's decision.
    """

    # A class attribute so that a cluster of several brokers on one machine can shrink it.
    jvm_opts: tuple[str, ...] = JVM_OPTS

    def __init__(self, settings: Settings, pom: Path | None = None) -> None:
        self.settings = settings
        self.pom = pom or DEFAULT_POM
        # Absolute: these paths end up in files read by a process with its own cwd.
        self.root = (settings.home / "kafka").resolve()
        self.libs = self.root / "libs"
        self.data_dir = self.root / "data"
        self.log_file = self.root / "logs" / "server.log"
        self.out_file = self.root / "logs" / "kafka.out"
        self.config = self.root / "server.properties"
        self.log4j_config = self.root / "log4j2.properties"
        self.pid_file = self.root / "kafka.pid"
        self.bootstrap = f"127.0.0.1:{settings.kafka_port}"

    def ensure_jars(self) -> Path:
        """Resolves once; the marker keeps reruns instant until the pom's Kafka version moves."""
        version = _pom_kafka_version(self.pom)
        marker = self.libs / ".resolved"
        if marker.is_file() and marker.read_text().strip() == version:
            return self.libs
        _require("mvn", "Apache Maven (e.g. `apt install maven` or `brew install maven`)")
        # Resolve beside, then swap: a failed download or an old version's jars must never
        # end up on the classpath.
        staging = self.root / "libs.partial"
        shutil.rmtree(staging, ignore_errors=True)
        goal = ["dependency:copy-dependencies", f"-DoutputDirectory={staging}"]
        failure = f"Maven could not resolve Kafka {version} from {self.pom} (offline?)"
        # Maven works beside its pom: a copy under the broker's home keeps it out of the
        # installed package.
        self.root.mkdir(parents=True, exist_ok=True)
        pom = self.root / "pom.xml"
        shutil.copyfile(self.pom, pom)
        _run(["mvn", "-q", "-B", "-f", str(pom), *goal], failure)
        (staging / ".resolved").write_text(version + "\n")
        shutil.rmtree(self.libs, ignore_errors=True)
        staging.rename(self.libs)
        return self.libs

    def up(self, timeout: float = 90.0) -> BrokerStatus:
        """Starts the broker unless it runs, and returns only once it answers Kafka requests."""
        _require("java", "a Java 17+ runtime (e.g. `apt install openjdk-17-jre-headless`)")
        pid = self._pid()
        if pid is not None and _port_open(self.settings.kafka_port):
            return self.status()
        if pid is None:  # a live pid whose port is still closed is a broker still starting
            for field in ("kafka_port", "kafka_controller_port"):
                if not _port_free(port := getattr(self.settings, field)):
                    raise KafkaSetupError(
                        f"port {port} is already in use by another program; "
                        f"set WATCHFLOOR_{field.upper()} to a free port"
                    )
            security = _local_security(self.settings)
            libs = self.ensure_jars()
            self._write_config()
            formatted_for = self.root / "data.security"
            if not (self.data_dir / "meta.properties").is_file():
                # A static quorum (controller.quorum.voters) needs no --standalone flag.
                cluster_id = self._new_cluster_id()
                fmt = ["format", "--cluster-id", cluster_id, "--config", str(self.config)]
                fmt += _scram_user_args(self.settings)
                failure = f"formatting Kafka storage in {self.data_dir} failed"
                _run(self._java(libs, "kafka.tools.StorageTool", *fmt), failure)
                formatted_for.write_text(security + "\n")
            elif (was := _read(formatted_for) or "PLAINTEXT") != security:
                # SCRAM users live in the data: a broker on data formatted for other
                # settings would refuse every login and only time out.
                raise KafkaSetupError(
                    f"the local broker's data in {self.data_dir} was set up for {was}, "
                    f"the settings ask for {security}; run `watchfloor kafka down` and "
                    f"remove {self.data_dir} to start over with the new settings"
                )
            pid = self._start(libs)
        self._wait_ready(pid, timeout)
        return self.status()

    def down(self, timeout: float = 30.0) -> BrokerStatus:
        """Stops gracefully (SIGTERM flushes and marks a clean shutdown), force-kills if stuck."""
        pid = self._pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):  # it may exit on its own meanwhile
                os.kill(pid, signal.SIGTERM)
                if not _wait(lambda: not self._is_ours(pid), timeout):
                    os.kill(pid, signal.SIGKILL)
                    _wait(lambda: not self._is_ours(pid), 10.0)
        self.pid_file.unlink(missing_ok=True)
        return self.status()

    def status(self) -> BrokerStatus:
        pid = self._pid()
        running = pid is not None and _port_open(self.settings.kafka_port)
        return BrokerStatus(running, pid, self.bootstrap, self.log_file, self.data_dir)

    def _pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text())
        except (OSError, ValueError):
            return None
        return pid if self._is_ours(pid) else None

    def _is_ours(self, pid: int) -> bool:
        """Pids get reused and zombies linger: only a process running our config counts."""
        try:
            if Path("/proc/self").is_dir():
                return str(self.config).encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
            os.kill(pid, 0)  # no procfs (macOS): a live pid of ours is trusted
            return True
        except OSError:
            return False

    def _write_config(self) -> None:
        self.config.parent.mkdir(parents=True, exist_ok=True)
        # Owner-only before anything is written: with SASL the file holds the password.
        self.config.touch(mode=0o600)
        self.config.chmod(0o600)
        self.config.write_text(self._server_properties())
        quiet = "".join(
            f"logger.n{i}.name={name}\nlogger.n{i}.level=WARN\n"
            for i, name in enumerate(NOISY_LOGGERS)
        )
        self.log4j_config.write_text(LOG4J2_PROPERTIES.format(log_file=self.log_file) + quiet)

    def _server_properties(self) -> str:
        return _server_properties(self.settings, self.data_dir)

    def _new_cluster_id(self) -> str:
        """A broker of its own is its own cluster; nodes of a shared quorum override this."""
        return _cluster_id()

    def _java(self, libs: Path, main: str, *args: str) -> list[str]:
        log4j = f"-Dlog4j2.configurationFile={self.log4j_config}"
        return ["java", *self.jvm_opts, log4j, "-cp", f"{libs}/*", main, *args]

    def _start(self, libs: Path) -> int:
        """Launches through a shell that exits at once, so the broker is nobody's child: it
        outlives this process and never lingers as our zombie."""
        self.out_file.parent.mkdir(parents=True, exist_ok=True)
        script = 'out=$1; shift; "$@" </dev/null >"$out" 2>&1 & echo $!'
        cmd = ["/bin/sh", "-c", script, "sh", str(self.out_file)]
        cmd += self._java(libs, "kafka.Kafka", str(self.config))
        shell = subprocess.run(cmd, capture_output=True, text=True, start_new_session=True)
        pid = int(shell.stdout)
        self.pid_file.write_text(f"{pid}\n")
        return pid

    def _wait_ready(self, pid: int, timeout: float) -> None:
        def ready() -> bool:
            if not self._is_ours(pid):
                self.pid_file.unlink(missing_ok=True)
                raise KafkaSetupError(f"Kafka broker exited during start-up:\n{self._log_tail()}")
            return _port_open(self.settings.kafka_port) and _answers(self.bootstrap, self.settings)

        if not _wait(ready, timeout, step=0.5):
            self.down()  # a broker that cannot start in time is stopped, not left half-up
            raise KafkaSetupError(
                f"Kafka broker did not answer on {self.bootstrap} within "
                f"{timeout:.0f}s:\n{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        """Broker-level failures land in server.log, JVM-level ones in this start's kafka.out."""
        logs = [
            p.read_text(errors="replace") for p in (self.log_file, self.out_file) if p.is_file()
        ]
        return "\n".join(_tail(text, 6) for text in logs if text.strip())


def _require(tool: str, what: str) -> None:
    if shutil.which(tool) is None:
        raise KafkaSetupError(f"`{tool}` is not on PATH; the local Kafka broker needs {what}")


def _run(cmd: list[str], failure: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise KafkaSetupError(f"{failure}:\n{_tail(done.stdout + done.stderr)}")


def _pom_kafka_version(pom: Path) -> str:
    try:
        version = ET.parse(pom).getroot().findtext("{*}properties/{*}kafka.version")
    except (OSError, ET.ParseError) as exc:
        raise KafkaSetupError(f"cannot read Kafka's Maven descriptor {pom}: {exc}") from exc
    if not version:
        raise KafkaSetupError(f"{pom} does not define the kafka.version property")
    return version.strip()


def _cluster_id() -> str:
    """Kafka's Uuid.randomUuid() shape: 22 url-safe base64 chars, no leading '-' (CLI flag)."""
    while (cid := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))[0] == "-":
        pass
    return cid


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def _port_free(port: int) -> bool:
    # SO_REUSEADDR as the JVM sets it: our previous broker's TIME_WAIT sockets don't count.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _answers(bootstrap: str, settings: Settings | None = None) -> bool:
    """An open port is not yet a working broker: ask it for cluster metadata (logged in as
    ``settings`` say; PLAINTEXT without them)."""
    try:
        reply = _admin_request(bootstrap, lambda admin: admin.describe_cluster(), settings=settings)
        return bool(reply["brokers"])
    except (KafkaError, OSError):  # "not yet": the caller retries until its deadline
        return False


def _admin_request(
    bootstrap: str,
    request: Callable[[AIOKafkaAdminClient], Awaitable[T]],
    timeout: float = 10.0,
    settings: Settings | None = None,
) -> T:
    """One admin request from synchronous code; raises KafkaError or OSError (timeouts too)."""
    security = client_security(settings) if settings is not None else {}

    async def ask() -> T:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=5000, **security
        )
        try:
            await admin.start()
            return await request(admin)
        finally:
            await admin.close()

    # A thread of its own, so that callers inside a running event loop (async fixtures) work.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(ask(), timeout)).result()


def _local_security(settings: Settings) -> str:
    """What the local broker's client listener asks for, e.g. ``SASL_PLAINTEXT
    SCRAM-SHA-512 user alice``; a ``KafkaSetupError`` for what it cannot offer."""
    protocol, mechanism = settings.kafka_security_protocol, settings.kafka_sasl_mechanism
    if protocol == "PLAINTEXT":
        return protocol
    if protocol != SASL_LISTENER or not mechanism.startswith("SCRAM-"):
        shown = protocol if protocol != SASL_LISTENER else f"{protocol} with {mechanism}"
        raise KafkaSetupError(
            f"the local broker offers PLAINTEXT or SASL_PLAINTEXT with SCRAM-SHA-256/512, not "
            f"{shown}; point WATCHFLOOR_KAFKA_BOOTSTRAP at a cluster set up for it"
        )
    if "," in (settings.kafka_sasl_username or ""):
        # kafka-storage's --add-scram splits its argument on commas.
        raise KafkaSetupError("the local broker's SCRAM user name cannot contain a comma")
    return f"{protocol} {mechanism} user {settings.kafka_sasl_username}"


def _server_properties(settings: Settings, data_dir: Path) -> str:
    """SERVER_PROPERTIES, with the client listener on SASL/SCRAM when the settings ask."""
    text = SERVER_PROPERTIES.format(s=settings, data_dir=data_dir)
    if settings.kafka_security_protocol != SASL_LISTENER:
        return text
    extra = {k: v.format(listener=SASL_LISTENER, s=settings) for k, v in SASL_PROPERTIES.items()}
    # The broker's own login on its listener (inter-broker), in JAAS syntax.
    user, password = sasl_login(settings)
    jaas_key = f"listener.name.{SASL_LISTENER.lower()}.{settings.kafka_sasl_mechanism.lower()}"
    extra[f"{jaas_key}.sasl.jaas.config"] = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{_jaas_quoted(user)}" password="{_jaas_quoted(password)}";'
    )
    lines = []
    for line in text.splitlines():
        key = line.partition("=")[0]
        lines.append(f"{key}={_property_value(extra.pop(key))}" if key in extra else line)
    lines += [f"{key}={_property_value(value)}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def _scram_user_args(settings: Settings) -> list[str]:
    """kafka-storage arguments creating the SCRAM user, or none.

    The salted password is computed here (RFC 5802's Hi, as Kafka does), so the password
    itself never appears on a command line, and may hold the commas --add-scram splits on.
    """
    if settings.kafka_security_protocol != SASL_LISTENER:
        return []
    mechanism = settings.kafka_sasl_mechanism
    digest = mechanism.removeprefix("SCRAM-").replace("-", "").lower()  # sha256, sha512
    salt = os.urandom(24)
    user, password = sasl_login(settings)
    salted = hashlib.pbkdf2_hmac(digest, password.encode(), salt, SCRAM_ITERATIONS)
    b64 = base64.b64encode
    scram = (
        f"name={user},salt={b64(salt).decode()},"
        f"saltedpassword={b64(salted).decode()},iterations={SCRAM_ITERATIONS}"
    )
    return ["--add-scram", f"{mechanism}=[{scram}]"]


def _jaas_quoted(text: str) -> str:
    """Inside a JAAS double-quoted value (Java's StreamTokenizer reads the escapes)."""
    escapes = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}
    return "".join(escapes.get(ch, ch) for ch in text)


def _property_value(text: str) -> str:
    """A value as java.util.Properties reads it back: backslashes doubled, anything but
    printable ASCII as \\uXXXX (the broker reads the file as ISO-8859-1)."""
    out = []
    for ch in text.replace("\\", "\\\\"):
        if " " <= ch <= "~":
            out.append(ch)
        else:  # as UTF-16 code units, as Java strings hold them (surrogate pairs included)
            units = ch.encode("utf-16-be")
            out += [f"\\u{units[i : i + 2].hex()}" for i in range(0, len(units), 2)]
    return "".join(out)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _wait(done: Callable[[], bool], timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)
    return True


def _tail(text: str, lines: int = 8) -> str:
    """The last lines, Java stack frames left out: the exception's message is what helps."""
    kept = [ln for ln in text.strip().splitlines() if not ln.lstrip().startswith(("at ", "..."))]
    return "\n".join("  " + line for line in kept[-lines:])


def _shown(path: Path) -> Path:
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path


def run_kafka_command(action: str, settings: Settings) -> int:
    """``watchfloor kafka up|down|status``. Exit 0 ok, 1 when status finds it stopped, 2 error."""
    if action == "up" and not settings.uses_local_broker:
        print(f"kafka: skipped, WATCHFLOOR_KAFKA_BOOTSTRAP is set ({settings.bootstrap})")
        return 0
    kafka = LocalKafka(settings)
    actions = {"up": kafka.up, "down": kafka.down, "status": kafka.status}
    try:
        if action not in actions:
            raise KafkaSetupError(f"unknown kafka action {action!r}; use up, down or status")
        state = actions[action]()
    except KafkaSetupError as exc:
        print(f"watchfloor: {exc}", file=sys.stderr)
        return 2
    if state.running:
        print(f"kafka: running pid {state.pid} on {state.bootstrap} (log {_shown(state.log_file)})")
        return 0
    print(f"kafka: not running ({state.bootstrap}, data kept in {_shown(state.data_dir)})")
    return 0 if action == "down" else 1
