"""TLS end to end, on a local broker of this module's own with an SSL listener beside its
plaintext one, its certificate signed by a CA made here with Java's keytool.

A worker and `watchfloor replay` connect with the CA file, alerts come out and are read
back over TLS; a client given another CA, or none (the system's), is refused at once, the
commands with the reason.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from streams.cli.kafka_local import LocalKafka
from streams.settings import Settings
from tests.integration.conftest import REPO
from tests.integration.test_security_live import (
    refused_at_once,
    replay_and_read_alerts,
    watchlist_file,
)
from tests.support.worker_process import free_port, isolated_settings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("keytool") is None, reason="needs Java's keytool"),
]

STORE_PASSWORD = "broker-store-secret"


@dataclass(frozen=True)
class Certificates:
    ca: Path
    """The CA's certificate (PEM), which clients trust."""
    other_ca: Path
    """Another CA's, which signed nothing of the broker's."""
    keystore: Path
    """The broker's key and certificate chain (PKCS12)."""


def keytool(*args: str) -> None:
    subprocess.run(["keytool", *args], check=True, capture_output=True, timeout=60)


def make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    store, pem = folder / f"{name}.p12", folder / f"{name}.pem"
    keytool(
        "-genkeypair", "-alias", name, "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
        "-dname", f"CN={name}", "-ext", "bc:c", "-storetype", "PKCS12",
        "-keystore", str(store), "-storepass", STORE_PASSWORD,
    )  # fmt: skip
    keytool(
        "-exportcert", "-rfc", "-alias", name, "-file", str(pem),
        "-keystore", str(store), "-storepass", STORE_PASSWORD,
    )  # fmt: skip
    return store, pem


def make_certificates(folder: Path) -> Certificates:
    """A CA; the broker's key pair, its certificate (for 127.0.0.1 and localhost) signed
    by the CA and imported into its keystore after the CA's; and an unrelated CA."""
    ca_store, ca = make_ca(folder, "watchfloor-test-ca")
    _, other_ca = make_ca(folder, "someone-else-ca")
    keystore, request, signed = folder / "broker.p12", folder / "broker.csr", folder / "broker.pem"
    names = "SAN=ip:127.0.0.1,dns:localhost"
    store = ("-keystore", str(keystore), "-storepass", STORE_PASSWORD)
    keytool(
        "-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048",
        "-validity", "2", "-dname", "CN=localhost", "-ext", names, "-storetype", "PKCS12",
        *store,
    )  # fmt: skip
    keytool("-certreq", "-alias", "broker", "-file", str(request), "-ext", names, *store)
    keytool(
        "-gencert", "-rfc", "-alias", "watchfloor-test-ca", "-infile", str(request),
        "-outfile", str(signed), "-ext", names, "-validity", "2",
        "-keystore", str(ca_store), "-storepass", STORE_PASSWORD,
    )  # fmt: skip
    keytool("-importcert", "-noprompt", "-alias", "ca", "-file", str(ca), *store)
    keytool("-importcert", "-alias", "broker", "-file", str(signed), *store)
    return Certificates(ca, other_ca, keystore)


class TlsKafka(LocalKafka):
    """The local broker with an SSL listener on ``tls_port`` beside its plaintext one,
    which it keeps for itself (and for its readiness check)."""

    def __init__(self, settings: Settings, tls_port: int, keystore: Path) -> None:
        super().__init__(settings)
        self.tls_bootstrap = f"127.0.0.1:{tls_port}"
        self._tls = {
            "listeners": f"PLAINTEXT://{self.bootstrap},SSL://{self.tls_bootstrap},"
            f"CONTROLLER://127.0.0.1:{settings.kafka_controller_port}",
            "advertised.listeners": f"PLAINTEXT://{self.bootstrap},SSL://{self.tls_bootstrap}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT",
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": str(keystore),
            "ssl.keystore.password": STORE_PASSWORD,
        }

    def _server_properties(self) -> str:
        extra = dict(self._tls)
        lines = []
        for line in super()._server_properties().splitlines():
            key = line.partition("=")[0]
            lines.append(f"{key}={extra.pop(key)}" if key in extra else line)
        return "\n".join([*lines, *(f"{k}={v}" for k, v in extra.items())]) + "\n"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_broker(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates
) -> Iterator[TlsKafka]:
    shared_libs = LocalKafka(Settings(home=REPO / ".watchfloor")).ensure_jars()
    home = tmp_path_factory.mktemp("kafka-tls-home")
    (home / "kafka").mkdir()
    (home / "kafka" / "libs").symlink_to(shared_libs)
    settings = Settings(home=home, kafka_port=free_port(), kafka_controller_port=free_port())
    kafka = TlsKafka(settings, free_port(), certificates.keystore)
    kafka.up(timeout=120)
    try:
        yield kafka
    finally:
        kafka.down()


def tls(cafile: Path | None) -> dict[str, object]:
    return {"kafka_security_protocol": "SSL", "kafka_ssl_cafile": cafile}


def test_worker_and_replay_connect_with_the_ca_file_and_alerts_come_out(
    tls_broker: TlsKafka, certificates: Certificates, worker_factory, tmp_path: Path
) -> None:
    settings = isolated_settings(
        tls_broker.tls_bootstrap,
        "tls",
        batch_within=0.1,
        watchlist=watchlist_file(tmp_path),
        **tls(certificates.ca),
    )
    replay_and_read_alerts(settings, worker_factory, tmp_path)


@pytest.mark.parametrize("trusted", ["another CA", "the system's CAs"])
def test_a_broker_certificate_from_an_untrusted_ca_is_refused_at_once(
    tls_broker: TlsKafka,
    certificates: Certificates,
    trusted: str,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    cafile = certificates.other_ca if trusted == "another CA" else None
    wrong = isolated_settings(tls_broker.tls_bootstrap, "tls", **tls(cafile))
    refused_at_once(wrong, "CERTIFICATE_VERIFY_FAILED", caplog, tmp_path)
