"""How the Faust app is configured: checked on the app object, without a broker."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

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


def test_detect_ready_follows_faust_rebalances_even_one_cut_short() -> None:
    registry = CollectorRegistry()
    app = create_app(Settings(), registry=registry).app

    def ready() -> float | None:
        return registry.get_sample_value("watchfloor_detect_ready")

    assert ready() == 0.0  # not yet assigned
    app.on_rebalance_start()
    assert ready() == 0.0
    app.on_rebalance_return()
    assert ready() == 0.0  # recovering
    app.on_rebalance_end()
    assert ready() == 1.0
    # A second worker joins, and a third rebalance starts before the second returns.
    app.on_rebalance_start()
    assert ready() == 0.0
    app.on_rebalance_start()
    app.on_rebalance_return()
    app.on_rebalance_end()
    assert ready() == 1.0
