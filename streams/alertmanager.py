"""Alerts as Prometheus Alertmanager sees them (API v2), and the client that posts them.

One Alertmanager alert stands for one burst: its labels (``alertname``, ``signal``,
``region``, ``severity``, ``detector``, ``burst_id``) stay the same for the burst's
updates, so Alertmanager groups, routes, silences and inhibits a burst as one alert and
each update only refreshes it. ``severity`` is the burst's severity as of the update, so
an escalation is a new alert that routes by its new severity. Alertmanager's times are
wall-clock: ``startsAt`` is the start of the window that crossed (event time, so a replay
of old reports shows when they happened), ``endsAt`` is when the update was made plus
``resolve_after``, after which Alertmanager resolves the alert unless another update
refreshed it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import aiohttp

from streams.models import Alert

__all__ = ["ALERTNAME", "AlertmanagerClient", "Backoff", "DeliveryRefused", "to_alertmanager"]

log = logging.getLogger(__name__)

ALERTNAME = "WatchfloorBurst"
# Evidence titles and links shown in an alert's annotations: enough to judge it from a
# chat message without opening the board.
EVIDENCE_SHOWN = 3


def to_alertmanager(
    alert: Alert, resolve_after: float, board_url: str | None = None
) -> dict[str, Any]:
    """The Alertmanager API v2 ``postableAlert`` for ``alert``; with ``board_url`` (the
    board's public address) it links to the key's chart there."""
    labels = {
        "alertname": ALERTNAME,
        "signal": alert.signal_id,
        "region": alert.region,
        "severity": alert.severity,
        "detector": alert.detector.name,
        "burst_id": alert.burst_id,
    }
    evidence = "\n".join(
        f"- {e.title} ({e.source or 'unknown outlet'}){f' {e.url}' if e.url else ''}"
        for e in alert.evidence[:EVIDENCE_SHOWN]
    )
    annotations = {
        "summary": (
            f"{alert.signal_id} in {alert.region}: {alert.count} reports in {alert.scale} "
            f"(expected {alert.baseline:.1f}, {alert.publishers} publishers)"
        ),
        "description": (
            f"{alert.update} alert of burst {alert.burst_id}: window "
            f"{alert.window_start.isoformat()} to {alert.window_end.isoformat()}, "
            f"score {alert.score:.2f} by {alert.detector.kind}, watchlist {alert.watchlist_version}"
        ),
        "evidence": evidence,
        "alert_id": alert.alert_id,
        "update": alert.update,
        "scale": alert.scale,
    }
    postable: dict[str, Any] = {
        "labels": labels,
        "annotations": {k: v for k, v in annotations.items() if v},
        "startsAt": alert.window_start.isoformat(),
        "endsAt": (alert.generated_at + timedelta(seconds=resolve_after)).isoformat(),
    }
    if board_url:
        link = f"{board_url}#key={quote(alert.key, safe='')}"
        postable["annotations"]["board"] = link
        postable["generatorURL"] = link
    return postable


@dataclass
class Backoff:
    """Exponential back-off between attempts: ``first``, doubling up to ``most``."""

    first: float = 0.5
    most: float = 60.0
    _next: float = 0.0

    def failed(self) -> float:
        """Seconds to wait before the next attempt."""
        self._next = self.first if self._next == 0.0 else min(self._next * 2, self.most)
        return self._next

    def succeeded(self) -> None:
        self._next = 0.0


class DeliveryRefused(Exception):
    """Alertmanager answered 4xx: retrying the same alerts cannot succeed."""


class AlertmanagerClient:
    """Posts alerts to one Alertmanager's ``/api/v2/alerts``."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.endpoint = url.rstrip("/") + "/api/v2/alerts"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def post(self, alerts: list[dict[str, Any]]) -> None:
        """Deliver ``alerts``; raises ``DeliveryRefused`` on a 4xx answer and
        ``aiohttp.ClientError`` or ``TimeoutError`` when Alertmanager is out of reach
        or answers 5xx."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        async with self._session.post(self.endpoint, json=alerts) as resp:
            if 400 <= resp.status < 500:
                raise DeliveryRefused(f"HTTP {resp.status}: {(await resp.text())[:300]}")
            resp.raise_for_status()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
