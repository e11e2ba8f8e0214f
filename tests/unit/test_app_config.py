"""How the Faust app is configured: checked on the app object, without a broker."""

from __future__ import annotations

from streams.pipeline.app import create_app
from streams.settings import Settings


def test_every_producer_waits_for_all_replicas_and_is_idempotent() -> None:
    for guarantee in ("at_least_once", "exactly_once"):
        app = create_app(Settings(processing_guarantee=guarantee)).app
        extra = app.producer._settings_extra()  # what Faust adds to each aiokafka producer
        assert extra == {"acks": "all", "enable_idempotence": True}
        assert app.conf.processing_guarantee.value == guarantee
        assert app.conf.producer_acks == -1


def test_exactly_once_is_off_unless_asked_for() -> None:
    assert create_app(Settings()).app.conf.processing_guarantee.value == "at_least_once"
