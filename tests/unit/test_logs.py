"""The worker's log: JSON lines, and errors only for what needs acting on."""

from __future__ import annotations

import io
import json
import logging
import logging.config

from streams.logs import logging_config


def test_a_coordinator_not_available_at_start_is_a_warning_and_other_errors_stay_errors() -> None:
    out = io.StringIO()
    config = logging_config("INFO")
    config["handlers"]["stderr"]["stream"] = out
    config["handlers"]["stderr"].pop("class")
    config["handlers"]["stderr"]["()"] = lambda stream: logging.StreamHandler(stream)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in config["loggers"]}
    logging.config.dictConfig(config)
    try:
        coordinator = logging.getLogger("aiokafka.consumer.group_coordinator")
        coordinator.error(
            "Group Coordinator Request failed: [Error 15] GroupCoordinatorNotAvailableError"
        )
        coordinator.error(
            "Group Coordinator Request failed: [Error 29] GroupAuthorizationFailedError"
        )
        logging.getLogger("aiokafka.consumer.fetcher").error(
            "Failed fetch offsets from 1: [Error 6] NotLeaderForPartitionError: x"
        )
        logging.getLogger("streams.x").error("agent crashed", extra={"agent": "detect"})
    finally:
        root.handlers[:], root.level = saved
        for name, level in noisy.items():
            logging.getLogger(name).setLevel(level)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(e["level"], e["logger"]) for e in lines] == [
        ("warning", "aiokafka.consumer.group_coordinator"),
        ("error", "aiokafka.consumer.group_coordinator"),
        ("warning", "aiokafka.consumer.fetcher"),
        ("error", "streams.x"),
    ]
    assert lines[3]["agent"] == "detect"
