"""Structured logs: one JSON object per line, quiet at INFO.

Faust, mode and aiokafka log chattily at INFO (banners, every rebalance step); they are
held at WARNING unless WATCHFLOOR_LOG_LEVEL is DEBUG.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = ["JsonFormatter", "TransientErrors", "logging_config"]

_NOISY = ("faust", "mode", "aiokafka", "kafka", "aiohttp", "venusian")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        # Fields passed with `extra=` become top-level keys.
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TransientErrors(logging.Filter):
    """aiokafka logs at ERROR what it retries by itself at a normal start: the group
    coordinator is not available while a new broker creates ``__consumer_offsets``, a
    topic just created has no leader for a moment. Such records are kept at WARNING, so
    an error in the log means something to act on."""

    RETRIED = (
        "GroupCoordinatorNotAvailableError",
        "NotCoordinatorForGroupError",
        "NotLeaderForPartitionError",
        "LeaderNotAvailableError",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            record.levelno == logging.ERROR
            and record.name.startswith("aiokafka.consumer")
            and any(name in record.getMessage() for name in self.RETRIED)
        ):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def logging_config(level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` mapping for worker and command-line processes."""
    level = level.upper()
    others = level if level == "DEBUG" else "WARNING"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"transient": {"()": TransientErrors}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["transient"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {name: {"level": others} for name in _NOISY},
    }
