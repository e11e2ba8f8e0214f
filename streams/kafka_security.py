"""How every Kafka client of Watchfloor authenticates and encrypts: one place, from Settings.

Plain aiokafka clients (admin, replay producer, alerts follower, probes, tests, benchmarks)
take ``client_security(settings)`` as keyword arguments; the Faust app takes
``faust_credentials(settings)`` as ``broker_credentials``, which Faust turns into the same
aiokafka arguments for its own consumer, producer and topic creation. No secret is logged
here, and callers never need to read the password themselves.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

from aiokafka.helpers import create_ssl_context

from streams.settings import SASL_PROTOCOLS, SSL_PROTOCOLS, Settings

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT

__all__ = ["client_security", "faust_credentials", "sasl_login", "ssl_context"]


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context of the SSL and SASL_SSL protocols; None for the others."""
    if settings.kafka_security_protocol not in SSL_PROTOCOLS:
        return None
    key_password = settings.kafka_ssl_key_password
    context = create_ssl_context(
        cafile=settings.kafka_ssl_cafile,  # None: the system's CAs
        certfile=settings.kafka_ssl_certfile,
        keyfile=settings.kafka_ssl_keyfile,
        password=key_password.get_secret_value() if key_password else None,
    )
    # The certificate is still verified against the CAs; only the name check goes.
    context.check_hostname = settings.kafka_ssl_check_hostname
    return context


def client_security(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client (consumer, producer, admin)."""
    protocol = settings.kafka_security_protocol
    kwargs: dict[str, Any] = {"security_protocol": protocol}
    if protocol in SSL_PROTOCOLS:
        kwargs["ssl_context"] = ssl_context(settings)
    if protocol in SASL_PROTOCOLS:
        username, password = sasl_login(settings)
        kwargs["sasl_mechanism"] = settings.kafka_sasl_mechanism
        kwargs["sasl_plain_username"] = username
        kwargs["sasl_plain_password"] = password
    return kwargs


def faust_credentials(settings: Settings) -> CredentialsT | None:
    """``broker_credentials`` for ``faust.App``; None (Faust's PLAINTEXT) by default.

    Faust infers the protocol from the credentials' type: SASLCredentials with a TLS
    context is SASL_SSL, without one SASL_PLAINTEXT, whatever the mechanism (SCRAM
    included); SSLCredentials is SSL.
    """
    # Faust is imported here, not at the top: the replay and alerts commands use only
    # client_security and should not pay for importing Faust.
    from faust.auth import SASLCredentials, SSLCredentials

    protocol = settings.kafka_security_protocol
    context = ssl_context(settings)
    if protocol in SASL_PROTOCOLS:
        username, password = sasl_login(settings)
        return SASLCredentials(
            username=username,
            password=password,
            ssl_context=context,
            mechanism=settings.kafka_sasl_mechanism,
        )
    if context is not None:
        return SSLCredentials(context)
    return None


def sasl_login(settings: Settings) -> tuple[str, str]:
    """User name and password of the SASL protocols."""
    user, password = settings.kafka_sasl_username, settings.kafka_sasl_password
    # Settings validation refuses this, but model_copy(update=...) skips validation.
    if user is None or password is None:
        raise ValueError(
            f"WATCHFLOOR_KAFKA_SECURITY_PROTOCOL={settings.kafka_security_protocol} needs "
            "WATCHFLOOR_KAFKA_SASL_USERNAME and WATCHFLOOR_KAFKA_SASL_PASSWORD"
        )
    return user, password.get_secret_value()
