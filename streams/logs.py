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
        elif record.name == "aiohttp.server" and (refused := _bad_request(record)):
            # A client's malformed request, already answered with a 4xx: a line, not a
            # traceback at ERROR.
            record.msg = f"{record.getMessage()}: refused, {refused}"[:500]
            record.args = None
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def _bad_request(record: logging.LogRecord) -> BaseException | None:
    """The client error (a 4xx) a record of aiohttp's server reports, if it is one."""
    from aiohttp.http_exceptions import HttpProcessingError

    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, HttpProcessingError) and 400 <= (error.code or 0) < 500:
        return error
    return None


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
