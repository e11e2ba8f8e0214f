"""Kafka security settings: validation, the client arguments built from them, and the local
broker's SASL configuration (all without a broker)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from faust.auth import SASLCredentials, SSLCredentials
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import SecretStr, ValidationError

from streams.cli.kafka_local import (
    SERVER_PROPERTIES,
    KafkaSetupError,
    _jaas_quoted,
    _local_security,
    _property_value,
    _scram_user_args,
    _server_properties,
)
from streams.kafka_security import client_security, faust_credentials, ssl_context
from streams.settings import Settings
from tests.support.worker_process import settings_env

PASSWORD = "s3cret-pa55word"
LOGIN: dict[str, Any] = {"kafka_sasl_username": "alice", "kafka_sasl_password": PASSWORD}


@pytest.fixture(autouse=True)
def _no_watchfloor_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own WATCHFLOOR_KAFKA_* variables must not change what is tested.
    for name in list(os.environ):
        if name.startswith("WATCHFLOOR_"):
            monkeypatch.delenv(name)


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate (its own CA) and its key, encrypted with ``keypass``."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-days", "1", "-subj", "/CN=watchfloor-test-ca"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-keyout", str(key), "-out", str(cert), "-passout", "pass:keypass"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"kafka_security_protocol": "SASL_PLAINTEXT"},
            "=SASL_PLAINTEXT needs WATCHFLOOR_KAFKA_SASL_USERNAME and "
            "WATCHFLOOR_KAFKA_SASL_PASSWORD",
        ),
        (
            {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_password": PASSWORD},
            "SASL_SSL needs WATCHFLOOR_KAFKA_SASL_USERNAME",
        ),
        (LOGIN, "are set but WATCHFLOOR_KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use SASL"),
        (
            {"kafka_security_protocol": "SSL", **LOGIN},
            "=SSL does not use SASL; set it to SASL_PLAINTEXT or SASL_SSL",
        ),
        (
            {"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_ssl_key_password": "x", **LOGIN},
            "WATCHFLOOR_KAFKA_SSL_KEY_PASSWORD set but "
            "WATCHFLOOR_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT does not use TLS",
        ),
        ({"kafka_security_protocol": "TLS"}, "kafka_security_protocol"),
        ({"kafka_sasl_mechanism": "GSSAPI"}, "kafka_sasl_mechanism"),
    ],
)
def test_inconsistent_security_settings_are_refused_naming_the_variables(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)) as caught:
        Settings(**values)
    assert PASSWORD not in str(caught.value)


def test_tls_files_must_exist_and_a_key_needs_its_certificate(
    tmp_path: Path, cert: tuple[Path, Path]
) -> None:
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(ValidationError, match=f"kafka_ssl_cafile\n.*{re.escape(str(missing))} is"):
        Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=missing)
    with pytest.raises(ValidationError, match="set WATCHFLOOR_KAFKA_SSL_CERTFILE too"):
        Settings(kafka_security_protocol="SSL", kafka_ssl_keyfile=cert[1])


def test_secrets_stay_out_of_reprs_and_validation_errors() -> None:
    s = Settings(kafka_security_protocol="SASL_SSL", **LOGIN)
    assert PASSWORD not in repr(s) and PASSWORD not in str(s.model_dump())
    assert PASSWORD not in repr(faust_credentials(s))
    # A refused value is not echoed back (pydantic would print the raw input).
    with pytest.raises(ValidationError) as caught:
        Settings(http_token=SecretStr("short-token"))
    assert "short-token" not in str(caught.value)


def test_the_environment_carries_the_password_to_a_child_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = Settings(kafka_security_protocol="SASL_PLAINTEXT", **LOGIN)
    for name, value in settings_env(s).items():
        monkeypatch.setenv(name, value)
    child = Settings()
    assert child.kafka_sasl_password == SecretStr(PASSWORD)
    assert client_security(child) == client_security(s)


# --- client arguments ---------------------------------------------------------------------


def test_plaintext_is_the_default_and_faust_keeps_its_own() -> None:
    assert client_security(Settings()) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(Settings()) is None


def test_sasl_plaintext_with_scram() -> None:
    s = Settings(kafka_security_protocol="SASL_PLAINTEXT", **LOGIN)
    assert client_security(s) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "alice",
        "sasl_plain_password": PASSWORD,
    }
    assert ssl_context(s) is None


def test_sasl_ssl_verifies_the_broker_with_the_system_cas_by_default() -> None:
    s = Settings(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-256", **LOGIN)
    kwargs = client_security(s)
    context = kwargs.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-256"

    lax = client_security(s.model_copy(update={"kafka_ssl_check_hostname": False}))
    # Only the name check goes; the certificate chain is still verified.
    assert not lax["ssl_context"].check_hostname
    assert lax["ssl_context"].verify_mode == ssl.CERT_REQUIRED


def test_ssl_loads_the_ca_and_an_encrypted_client_key(cert: tuple[Path, Path]) -> None:
    certfile, keyfile = cert
    s = Settings(
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=certfile,
        kafka_ssl_certfile=certfile,
        kafka_ssl_keyfile=keyfile,
        kafka_ssl_key_password="keypass",
    )
    context = client_security(s)["ssl_context"]
    subjects = [dict(x[0] for x in ca["subject"]) for ca in context.get_ca_certs()]
    assert {"commonName": "watchfloor-test-ca"} in subjects
    wrong = s.model_copy(update={"kafka_ssl_key_password": SecretStr("nope")})
    with pytest.raises(ssl.SSLError):
        client_security(wrong)


@pytest.mark.parametrize(
    ("protocol", "kind"),
    [("SSL", SSLCredentials), ("SASL_PLAINTEXT", SASLCredentials), ("SASL_SSL", SASLCredentials)],
)
def test_faust_connects_exactly_like_the_plain_clients(protocol: str, kind: type) -> None:
    login = LOGIN if protocol.startswith("SASL") else {}
    s = Settings(kafka_security_protocol=protocol, **login)
    credentials = faust_credentials(s)
    assert isinstance(credentials, kind)
    # What Faust's own consumer, producer and admin get, against what ours get.
    theirs = {k: v for k, v in credentials_to_aiokafka_auth(credentials).items() if v is not None}
    ours = client_security(s)
    assert theirs.keys() == ours.keys()
    for key in ours.keys() - {"ssl_context"}:
        assert theirs[key] == ours[key], key
    if "ssl_context" in ours:
        assert isinstance(theirs["ssl_context"], ssl.SSLContext)


# --- the local broker ---------------------------------------------------------------------


def test_the_local_broker_config_is_unchanged_without_security(tmp_path: Path) -> None:
    s = Settings(kafka_port=1111, kafka_controller_port=2222)
    assert _server_properties(s, tmp_path) == SERVER_PROPERTIES.format(s=s, data_dir=tmp_path)
    assert _scram_user_args(s) == []
    assert _local_security(s) == "PLAINTEXT"


def test_the_local_broker_asks_for_scram_on_its_client_listener(tmp_path: Path) -> None:
    s = Settings(
        kafka_port=1111,
        kafka_controller_port=2222,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="alice",
        kafka_sasl_password='pa"ss\\wörd',
    )
    lines = _server_properties(s, tmp_path).splitlines()
    props = dict(line.split("=", 1) for line in lines)
    assert len(props) == len(lines)  # every key once
    assert props["listeners"] == "SASL_PLAINTEXT://127.0.0.1:1111,CONTROLLER://127.0.0.1:2222"
    assert props["advertised.listeners"] == "SASL_PLAINTEXT://127.0.0.1:1111"
    assert (
        props["listener.security.protocol.map"]
        == "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT"
    )
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["inter.broker.listener.name"] == "SASL_PLAINTEXT"
    assert props["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"] == (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        # JAAS escapes the quote and the backslash, then the file doubles the backslashes.
        r'username="alice" password="pa\\"ss\\\\w\u00f6rd";'
    )
    assert _local_security(s) == "SASL_PLAINTEXT SCRAM-SHA-512 user alice"


def test_the_scram_user_is_created_without_the_password_on_the_command_line() -> None:
    s = Settings(kafka_security_protocol="SASL_PLAINTEXT", **LOGIN)
    flag, value = _scram_user_args(s)
    assert flag == "--add-scram" and PASSWORD not in value
    mechanism, _, fields = value.partition("=")
    assert mechanism == "SCRAM-SHA-512" and fields.startswith("[") and fields.endswith("]")
    parts = dict(f.split("=", 1) for f in fields[1:-1].split(","))
    salt, iterations = base64.b64decode(parts["salt"]), int(parts["iterations"])
    # RFC 5802's SaltedPassword, which Kafka itself would store.
    salted = hashlib.pbkdf2_hmac("sha512", PASSWORD.encode(), salt, iterations)
    assert parts == {
        "name": "alice",
        "salt": parts["salt"],
        "saltedpassword": base64.b64encode(salted).decode(),
        "iterations": "4096",
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"kafka_security_protocol": "SSL"}, "not SSL;"),
        ({"kafka_security_protocol": "SASL_SSL", **LOGIN}, "not SASL_SSL;"),
        (
            {"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_mechanism": "PLAIN", **LOGIN},
            "not SASL_PLAINTEXT with PLAIN;",
        ),
        (
            {**LOGIN, "kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_username": "a,b"},
            "cannot contain a comma",
        ),
    ],
)
def test_the_local_broker_refuses_what_it_cannot_offer(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(KafkaSetupError, match=message):
        _local_security(Settings(**values))


def test_property_and_jaas_escapes() -> None:
    assert _jaas_quoted('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert _property_value("a\\b=c:d é€😀") == "a\\\\b=c:d \\u00e9\\u20ac\\ud83d\\ude00"
