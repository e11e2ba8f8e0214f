"""Every user mistake ends in one line that says what to fix and a documented exit code,
never a traceback: wrong arguments, missing and unreadable files, a bad setting, a dead
broker, a taken port."""

from __future__ import annotations

import logging.config
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.cli import EXIT_CODES, main

DEAD_BROKER = "127.0.0.1:1"  # nothing listens there: connections are refused at once


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def run(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    """``watchfloor ARGV`` in this process: an exception escaping it fails the test."""
    monkeypatch.setattr(logging.config, "dictConfig", lambda config: None)  # the worker's
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's refusals
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return code, err


WRONG = [
    (["replay", "--rate", "0", "feed.jsonl"], "must be above 0"),
    (["replay", "--speedup", "-5", "feed.jsonl"], "must be above 0"),
    (["replay", "--rate", "fast", "feed.jsonl"], "is not a number"),
    (["alerts", "--idle-exit", "-1"], "must be at least 0"),
    (["alerts", "--max", "0"], "must be at least 1"),
    (["sample", "--days", "0"], "must be at least 1"),
    (["schemas", "bogus"], "invalid choice"),
    (["kafka", "restart"], "invalid choice"),
    (["backtest", "x.jsonl", "--plot-format", "gif"], "invalid choice"),
    (["nonsense"], "invalid choice"),
    ([], "the following arguments are required"),
]


@pytest.mark.parametrize(("argv", "says"), WRONG, ids=[" ".join(a) or "-" for a, _ in WRONG])
def test_wrong_arguments_are_refused_by_name(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = run(argv, capsys, monkeypatch)
    assert code == 2 and says in err


def test_missing_and_unreadable_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHFLOOR_KAFKA_BOOTSTRAP", DEAD_BROKER)
    missing = str(tmp_path / "nope.jsonl")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    cases = [
        (["replay", missing], "no such file or folder"),
        (["backtest", missing], "no such file or folder"),
        (["watchlist", missing], "cannot read"),
        (["watchlist", str(folder)], "cannot read"),  # a folder where a file belongs
        (["backtest", str(tmp_path / "x.csv"), "--detectors", missing], "cannot read"),
        (["sample", "--out", str(folder)], "cannot write"),
        (["detectors", "--write-docs", missing], "needs the markers"),
    ]
    for argv, says in cases:
        code, err = run(argv, capsys, monkeypatch)
        assert code == 2 and says in err and err.count("\n") == 1, (argv, err)


def test_a_bad_setting_names_its_variable_and_not_its_value(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHFLOOR_HTTP_TOKEN", "s3cret")
    code, err = run(["agents"], capsys, monkeypatch)
    assert code == 2 and "WATCHFLOOR_HTTP_TOKEN: " in err and "at least 16" in err
    assert "s3cret" not in err and "pydantic" not in err and "http_token" not in err
    monkeypatch.delenv("WATCHFLOOR_HTTP_TOKEN")
    monkeypatch.setenv("WATCHFLOOR_PARTITIONS", "many")
    code, err = run(["agents"], capsys, monkeypatch)
    assert code == 2 and err.startswith("watchfloor: bad configuration: WATCHFLOOR_PARTITIONS")


def test_a_dead_broker_is_one_line_for_every_command_that_needs_kafka(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHFLOOR_KAFKA_BOOTSTRAP", DEAD_BROKER)
    monkeypatch.setenv("WATCHFLOOR_HOME", str(tmp_path / "home"))
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"id": "a"}\n')
    for argv in (["replay", str(feed)], ["alerts", "--idle-exit", "1"], ["worker"]):
        code, err = run(argv, capsys, monkeypatch)
        assert code == 2 and f"no connection to Kafka at {DEAD_BROKER}" in err, (argv, err)
        assert "Unclosed" not in err


def test_a_taken_web_port_is_said_before_the_worker_starts(
    taken_port: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHFLOOR_KAFKA_BOOTSTRAP", DEAD_BROKER)
    monkeypatch.setenv("WATCHFLOOR_WEB_PORT", str(taken_port))
    code, err = run(["worker"], capsys, monkeypatch)
    assert code == 2 and f"127.0.0.1:{taken_port}" in err and "WATCHFLOOR_WEB_PORT" in err


def test_version_help_with_examples_and_the_exit_codes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("watchfloor ")
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    assert all(f"  {code}  " in top for code in EXIT_CODES)
    for name in ("worker", "replay", "alerts", "kafka", "schemas", "sample", "backtest"):
        with pytest.raises(SystemExit):
            main([name, "--help"])
        assert f"examples:\n  watchfloor {name}" in capsys.readouterr().out.replace(
            "WATCHFLOOR_KAFKA_BOOTSTRAP=kafka:9092 WATCHFLOOR_WEB_PORT=6066 ", ""
        ), name


def test_the_worker_raises_its_open_file_limit_to_the_hard_one() -> None:
    import resource

    from streams.cli import _raise_descriptor_limit

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
        _raise_descriptor_limit(most=4096)
        raised, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        expected = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
        assert raised == max(min(1024, hard), expected)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
