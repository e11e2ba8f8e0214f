"""The ``watchfloor`` command line: one subcommand per job (worker, replay, alerts, ...)."""

from __future__ import annotations

import argparse
import asyncio
import logging.config
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path

from pydantic import ValidationError

from streams.logs import logging_config
from streams.settings import Settings

__all__ = ["EXIT_CODES", "main"]

Command = Callable[[argparse.Namespace, Settings], int]

EXIT_CODES = {
    0: "done",
    1: "done, but some inputs were skipped (replay) or files are stale (schemas check)",
    2: "not done: wrong arguments, unreadable input, bad configuration, Kafka out of "
    "reach or the web port taken; one line on stderr says which",
}


class UserError(Exception):
    """A mistake the user can fix: reported in one line, exit code 2, no traceback."""


def _number(kind: type[int] | type[float], least: float, strict: bool) -> Callable[[str], float]:
    """An argparse type: a number at least (or, ``strict``, above) ``least``."""
    bound = f"above {least:g}" if strict else f"at least {least:g}"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value < least or (strict and value == least) or value != value:
            raise argparse.ArgumentTypeError(f"{text} must be {bound}")
        return value

    return parse


_positive = _number(float, 0, strict=True)
_not_negative = _number(float, 0, strict=False)
_count = _number(int, 1, strict=False)


def _talks_to_kafka(command: Command) -> Command:
    """A broker that is down or refuses the login (wrong password, wrong protocol) ends the
    command with one line and exit code 2, not a traceback."""

    @wraps(command)
    def run(args: argparse.Namespace, settings: Settings) -> int:
        from aiokafka.errors import KafkaConnectionError  # only Kafka commands pay for it

        try:
            return command(args, settings)
        except KafkaConnectionError:
            # aiokafka has already logged each broker's answer (e.g. SaslAuthenticationFailed).
            print(
                f"watchfloor: no connection to Kafka at {settings.bootstrap} with "
                f"{settings.kafka_security_protocol}; the reason is logged above",
                file=sys.stderr,
            )
            return 2

    return run


@_talks_to_kafka
def _worker(args: argparse.Namespace, settings: Settings) -> int:
    import faust

    from streams.pipeline.agents import AgentPluginError, check_enabled
    from streams.pipeline.app import create_app
    from streams.pipeline.topics import ensure_topics
    from streams.pipeline.watchlist_topic import read_newest

    config = logging_config(settings.log_level)
    logging.config.dictConfig(config)
    try:
        check_enabled(settings.agents)  # before any Kafka client is made
    except AgentPluginError as exc:
        print(f"watchfloor: {exc}", file=sys.stderr)
        return 2
    _check_port_free(settings.web_host, settings.web_port)
    _raise_descriptor_limit()
    asyncio.run(ensure_topics(settings))
    # The newest watchlist pushed to the topic, if any, wins over the file.
    newest, offsets = asyncio.run(read_newest(settings))
    try:
        wf = create_app(settings, watchlist=newest, watchlist_from=offsets)
    except AgentPluginError as exc:
        print(f"watchfloor: {exc}", file=sys.stderr)
        return 2
    if wf.topics:  # the pipeline's own were made above; these are the agents'
        asyncio.run(ensure_topics(settings, wf.topics))
    settings.home.mkdir(parents=True, exist_ok=True)  # Faust creates only the last level
    worker = faust.Worker(wf.app, loglevel=settings.log_level, quiet=True, logging_config=config)
    worker.execute_from_commandline()  # runs until SIGINT/SIGTERM, then exits the process
    return 0


@_talks_to_kafka
def _replay(args: argparse.Namespace, settings: Settings) -> int:
    from streams.cli.replay import replay

    try:
        columns = _columns(args.columns)
    except ValueError as exc:
        print(f"watchfloor: {exc}", file=sys.stderr)
        return 2
    path = Path(args.path)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    id_from = [c.strip() for c in args.id_from.split(",") if c.strip()] if args.id_from else None
    report = asyncio.run(
        replay(
            settings,
            path,
            rate=args.rate,
            speedup=args.speedup,
            columns=columns,
            id_from=id_from,
        )
    )
    print(
        f"replay: sent {report.sent:,} records to {settings.topic_raw} in {report.seconds:.1f}s "
        f"({report.invalid:,} of them invalid, to be dead-lettered by ingest); "
        f"{report.too_large} too large, dead-lettered directly; "
        f"{report.unreadable} unreadable files skipped"
    )
    for reason, n in report.reasons.most_common():
        print(f"  {n:,} {reason}, the first at {report.examples[reason]}")
    return 0 if report.unreadable == 0 else 1


def _raise_descriptor_limit(most: int = 65_536) -> None:
    """Raise the soft limit on open files to the hard one (at most ``most``): the default
    1,024 is one burst of idle HTTP clients away from leaving Kafka no sockets."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = most if hard == resource.RLIM_INFINITY else min(hard, most)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _check_port_free(host: str, port: int) -> None:
    """Faust reports a taken web port only as a traceback in its log once everything else
    has started: look first."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(
                f"cannot serve on {host}:{port} ({exc.strerror}): another process has the "
                "port; set WATCHFLOOR_WEB_PORT to a free one"
            ) from None


def _columns(text: str | None) -> dict[str, str]:
    """``title=headline,published_at=date`` → {"title": "headline", ...}."""
    if not text:
        return {}
    pairs = [part.split("=", 1) for part in text.split(",") if part.strip()]
    if any(len(p) != 2 or not p[0].strip() or not p[1].strip() for p in pairs):
        raise ValueError(f"--columns wants field=column pairs separated by commas, got {text!r}")
    return {field.strip(): column.strip() for field, column in pairs}


@_talks_to_kafka
def _alerts(args: argparse.Namespace, settings: Settings) -> int:
    from streams.cli.alerts_follow import follow_alerts

    try:
        shown = asyncio.run(
            follow_alerts(
                settings,
                as_json=args.json,
                from_beginning=not args.latest,
                idle_exit=args.idle_exit,
                limit=args.max,
            )
        )
    except KeyboardInterrupt:
        return 0
    if not args.json:
        print(f"alerts: {shown} shown", file=sys.stderr)
    return 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from streams.cli.status import status_command

    code, text = status_command(settings, args.json)
    print(text)
    return code


@_talks_to_kafka
def _deadletters(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from streams.cli.deadletters import read_letters, resend, select, summary

    letters = asyncio.run(read_letters(settings))
    at = set(args.at.split(",")) if args.at else None
    chosen = select(letters, reason=args.reason, source=args.source, at=at)
    if args.resend:
        if not (args.reason or args.source or at):
            raise UserError("--resend needs a choice: --reason, --source or --at")
        done = asyncio.run(resend(settings, chosen))
        print(
            f"deadletters: sent {done.sent} back to {settings.topic_raw}"
            + (
                f"; {done.truncated} skipped, their originals were truncated"
                if done.truncated
                else ""
            )
        )
        return 0
    if args.json:
        for x in chosen[: args.limit]:
            print(json.dumps({"at": x.at, **x.letter.model_dump(mode="json")}))
        return 0
    print(f"{len(letters)} dead letters on {settings.topic_deadletter}; {len(chosen)} chosen")
    for (reason, source), n in sorted(summary(chosen).items()):
        print(f"  {n:6d}  {reason:18s} {source}")
    for x in chosen[: args.limit]:
        where = f"{x.letter.topic}[{x.letter.partition}]@{x.letter.offset}"
        if x.letter.source != "kafka":
            where = x.letter.topic
        print(f"{x.at:>8s}  {x.letter.reason:18s} {where}  id {x.item_id or '-'}")
        print(f"          {x.letter.error}")
    if len(chosen) > args.limit:
        print(f"... {len(chosen) - args.limit} more (--limit)")
    return 0


def _kafka(args: argparse.Namespace, settings: Settings) -> int:
    from streams.cli.kafka_local import run_kafka_command

    return run_kafka_command(args.action, settings)


def _schemas(args: argparse.Namespace, settings: Settings) -> int:
    from streams.schemas import export_schemas, stale_schemas

    folder = Path(args.dir)
    if args.action == "check":
        stale = stale_schemas(folder)
        for name in stale:
            print(f"schemas: {folder / name} is stale; run `watchfloor schemas export`")
        return 1 if stale else 0
    for path in export_schemas(folder):
        print(f"schemas: wrote {path}")
    return 0


def _sample(args: argparse.Namespace, settings: Settings) -> int:
    from streams.sources.samplefeed import FeedSpec, generate, write_jsonl

    out = Path(args.out) if args.out else settings.home / "sample-feed.jsonl"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        n = write_jsonl(out, generate(FeedSpec(seed=args.seed, days=args.days)))
    except OSError as exc:
        raise UserError(f"{out}: cannot write: {exc.strerror or exc}") from None
    print(f"sample: wrote {n:,} items to {out}")
    return 0


@_talks_to_kafka  # with --push
def _watchlist(args: argparse.Namespace, settings: Settings) -> int:
    from streams.signals.watchlist import WatchlistError, load_watchlist

    try:
        wl = load_watchlist(Path(args.path) if args.path else None)
    except WatchlistError as exc:
        print(f"watchfloor: {exc}", file=sys.stderr)
        return 2
    print(f"watchlist {wl.version}: {len(wl.signals)} signals ok")
    if args.push:
        if not args.path:
            raise UserError("--push needs the PATH of the watchlist to push")
        return _push_watchlist(settings, Path(args.path).read_text(encoding="utf-8"), wl.version)
    return 0


def _push_watchlist(settings: Settings, text: str, version: str) -> int:
    from streams.pipeline.topics import ensure_topics
    from streams.pipeline.watchlist_topic import push_watchlist

    asyncio.run(ensure_topics(settings))
    offset = asyncio.run(push_watchlist(settings, text))
    print(
        f"watchlist {version} pushed to {settings.topic_watchlist} (offset {offset}); "
        "every worker takes it at its next batch"
    )
    return 0


def _backtest(args: argparse.Namespace, settings: Settings) -> int:
    from streams.backtest.command import (
        backtest_counts,
        backtest_items,
        backtest_nab,
        default_nab_detectors,
        format_reports,
    )
    from streams.backtest.evaluate import load_labels
    from streams.backtest.picture import PlotUnavailable, plot_traces
    from streams.backtest.results import write_out
    from streams.detect.detectors import load_detectors
    from streams.signals.watchlist import WatchlistError

    try:
        detectors = load_detectors(Path(args.detectors)) if args.detectors else None
        if args.nab:
            data_dir, labels_path = (Path(p) for p in args.nab)
            out_dir = Path(args.out) if args.out else settings.home / "nab-results"
            run = backtest_nab(
                data_dir, load_labels(labels_path), out_dir, detectors or default_nab_detectors()
            )
            print(f"{'file':44s} {'hit':>7s} {'FA':>4s} {'raw':>8s} {'NAB':>6s}")
            for rel, nab in run.files:
                print(
                    f"{rel[:44]:44s} {nab.detected:3d}/{nab.windows:<3d} {nab.false_alerts:4d} "
                    f"{nab.raw:8.4f} {_score(nab.normalised, 6, 1)}"
                )
            total = run.total
            print(
                f"NAB standard score {_score(total.normalised, 0, 4)} (raw {total.raw:.6f}, "
                f"windows hit {total.detected}/{total.windows}, false alerts "
                f"{total.false_alerts}); outputs in {out_dir}"
            )
            return 0
        if args.input is None:
            print("watchfloor: backtest needs an INPUT or --nab DATA_DIR LABELS", file=sys.stderr)
            return 2
        labels = load_labels(Path(args.labels)) if args.labels else None
        path = Path(args.input)
        is_csv = path.is_file() and path.suffix.lower() == ".csv"
        csvs = (
            [path] if is_csv else sorted(p for p in path.rglob("*") if p.suffix.lower() == ".csv")
        )
        if csvs:
            if detectors is None:
                from streams.signals.watchlist import load_watchlist

                detectors = list(load_watchlist(settings.watchlist).detectors)
            backtest = backtest_counts(csvs, detectors, labels, None if is_csv else path)
        else:
            if detectors is not None:
                print(
                    "watchfloor: --detectors applies to count CSVs; items use the watchlist's",
                    file=sys.stderr,
                )
                return 2
            backtest = backtest_items(path, settings, labels)
        format_reports(backtest)
        if args.out:
            write_out(backtest, Path(args.out))
            what = "figures and alerts" if args.out.endswith(".json") else "figures"
            print(f"backtest: {what} in {args.out}")
        if args.plot:
            drawn = plot_traces(backtest.traces, Path(args.plot), args.plot_format)
            print(f"backtest: {len(drawn)} pictures ({args.plot_format}) in {args.plot}")
    except (ValueError, OSError, WatchlistError, PlotUnavailable) as exc:
        print(f"watchfloor: {exc}", file=sys.stderr)
        return 2
    return 0


def _score(value: float | None, width: int, digits: int) -> str:
    """A NAB score, or '-' where there was no labelled window to score."""
    return f"{'-':>{width}s}" if value is None else f"{value:{width}.{digits}f}"


def _agents(args: argparse.Namespace, settings: Settings) -> int:
    import inspect

    from streams.pipeline.agents import BUILT_IN, AgentPluginError, agent_registry

    try:
        registry = agent_registry()
    except AgentPluginError as exc:
        print(f"watchfloor: {exc}", file=sys.stderr)
        return 2
    for name, install in registry.items():
        if name in BUILT_IN:
            state = "built-in"
        else:
            state = "plugin, on" if name in settings.agents else "plugin, off"
        # An agent's module says what it does in its docstring's first line.
        doc = inspect.getdoc(inspect.getmodule(install)) or ""
        summary = doc.splitlines()[0].replace("``", "") if doc else install.__module__
        print(f"{name:<14} {state:<12} {summary}")
    missing = [n for n in settings.agents if n not in registry]
    if missing:
        print(
            f"watchfloor: WATCHFLOOR_AGENTS names {', '.join(missing)}, not installed",
            file=sys.stderr,
        )
        return 2
    return 0


def _detectors(args: argparse.Namespace, settings: Settings) -> int:
    from streams.detect.reference import reference_markdown

    if not args.write_docs:
        print(reference_markdown(), end="")
        return 0
    text = reference_markdown(plugins=False)
    path = Path(args.write_docs)
    begin, end = "<!-- detectors:begin -->\n", "<!-- detectors:end -->"
    try:
        doc = path.read_text(encoding="utf-8")
        head, tail = doc[: doc.index(begin) + len(begin)], doc[doc.index(end) :]
    except (OSError, ValueError) as exc:
        print(
            f"watchfloor: {path}: needs the markers {begin.strip()} ... {end}: {exc}",
            file=sys.stderr,
        )
        return 2
    path.write_text(head + text + tail, encoding="utf-8")
    print(f"detectors: wrote the reference into {path}")
    return 0


def _parser() -> argparse.ArgumentParser:
    codes = "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog="watchfloor",
        description="Streaming event detection for OSINT on Kafka. "
        "Configuration: WATCHFLOOR_* environment variables (see README).",
        epilog=f"exit codes:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"watchfloor {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(
        name: str, run: Callable[..., int], help: str, *examples: str
    ) -> argparse.ArgumentParser:
        epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples) if examples else None
        p = sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(run=run)
        return p

    command(
        "worker",
        _worker,
        "Run the built-in agents and the plugin agents switched on.",
        "watchfloor worker",
        "WATCHFLOOR_KAFKA_BOOTSTRAP=kafka:9092 WATCHFLOOR_WEB_PORT=6066 watchfloor worker",
    )
    command("agents", _agents, "List the built-in and installed plugin agents, and which are on.")
    p = command(
        "replay",
        _replay,
        "Send JSONL, markdown or CSV items to the raw topic.",
        "watchfloor replay .watchfloor/sample-feed.jsonl",
        "watchfloor replay reports/ --rate 50",
        "watchfloor replay history.jsonl.gz --speedup 3600",
        "watchfloor replay export.csv --columns title=headline,published_at=date",
        "watchfloor replay export.csv --columns title=headline,published_at=date --id-from url",
    )
    p.add_argument("path", help="a .jsonl/.jsonl.gz/.md/.csv file or a folder of them")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument(
        "--rate", type=_positive, default=None, help="records per second (default: max)"
    )
    pace.add_argument(
        "--speedup",
        type=_positive,
        default=None,
        help="pace by published_at, this many times faster than it happened",
    )
    p.add_argument(
        "--columns",
        default=None,
        metavar="FIELD=COLUMN,...",
        help="CSV: which column holds which item field (default: columns named like fields)",
    )
    p.add_argument(
        "--id-from",
        default=None,
        metavar="COLUMN,...|row",
        help="CSV rows without an id: derive a stable one from these columns, or from the "
        "whole row",
    )
    p = command(
        "alerts",
        _alerts,
        "Follow the alerts topic and print alerts.",
        "watchfloor alerts",
        "watchfloor alerts --latest --json | jq .key",
        "watchfloor alerts --idle-exit 5 --max 20",
    )
    p.add_argument("--json", action="store_true", help="print the raw JSON records")
    p.add_argument("--latest", action="store_true", help="only alerts published from now on")
    p.add_argument(
        "--idle-exit",
        type=_not_negative,
        default=None,
        metavar="SECONDS",
        help="exit after this long without a new alert",
    )
    p.add_argument("--max", type=_count, default=None, help="exit after this many alerts")
    p = command(
        "status",
        _status,
        "Show the broker, the pipeline's topics, each consumer group's lag per partition, "
        "the watchlist and the local worker's watermark and active keys.",
        "watchfloor status",
        "watchfloor status --json | jq '.groups[] | {group, total}'",
    )
    p.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    p = command(
        "deadletters",
        _deadletters,
        "List the dead letters by reason and source with their errors, and send chosen ones "
        "back to the raw topic after their cause is fixed (their ids unchanged).",
        "watchfloor deadletters",
        "watchfloor deadletters --reason validation_failed --limit 50",
        "watchfloor deadletters --reason future_timestamp --resend",
        "watchfloor deadletters --at 0:17,0:18 --resend",
    )
    p.add_argument("--reason", help="only this reason, e.g. invalid_json, validation_failed")
    p.add_argument("--source", choices=["kafka", "http", "file"], help="only from this source")
    p.add_argument(
        "--at", metavar="P:O,...", help="only these dead letters (partition:offset, as listed)"
    )
    p.add_argument("--limit", type=_count, default=20, help="dead letters shown (default 20)")
    p.add_argument("--json", action="store_true", help="the chosen dead letters as JSON lines")
    p.add_argument(
        "--resend", action="store_true", help="send the chosen ones back to the raw topic"
    )
    p = command(
        "kafka",
        _kafka,
        "Manage the local single-node Kafka broker (KRaft), from Apache's jars on Maven "
        "Central; its data and logs are under WATCHFLOOR_HOME/kafka.",
        "watchfloor kafka up",
        "watchfloor kafka status",
        "WATCHFLOOR_KAFKA_PORT=29092 watchfloor kafka up",
    )
    p.add_argument(
        "action",
        choices=["up", "down", "status"],
        help="up: download the jars if needed and start the broker (idempotent); down: stop "
        "it; status: say whether it runs and where",
    )
    p = command(
        "schemas",
        _schemas,
        "Export or check the JSON Schema of every topic.",
        "watchfloor schemas check",
        "watchfloor schemas export --dir schemas",
    )
    p.add_argument("action", choices=["export", "check"], help="write the files, or compare")
    p.add_argument("--dir", default="schemas", help="schema folder (default: schemas)")
    p = command(
        "sample",
        _sample,
        "Write the deterministic sample feed as JSONL: four weeks of news with a surge.",
        "watchfloor sample",
        "watchfloor sample --out feed.jsonl --days 7 --seed 3",
    )
    p.add_argument(
        "--out", default=None, help="where to write (default: WATCHFLOOR_HOME/sample-feed.jsonl)"
    )
    p.add_argument("--seed", type=int, default=7, help="another seed, another feed (default 7)")
    p.add_argument("--days", type=_count, default=28, help="days of news (default 28)")
    p = command(
        "backtest",
        _backtest,
        "Replay history through the worker's detection code without Kafka and score it.",
        "watchfloor backtest .watchfloor/sample-feed.jsonl --plot pictures/",
        "watchfloor backtest counts.csv --detectors mine.yaml --labels events.json",
        "watchfloor backtest history.jsonl --out figures.json",
        "watchfloor backtest --nab NAB/data NAB/labels/combined_windows.json --out results/",
    )
    p.add_argument(
        "input",
        nargs="?",
        help="raw items (.jsonl, .jsonl.gz, .md or a folder) or count series (.csv or a "
        "folder of them: timestamp,value[,key])",
    )
    p.add_argument("--labels", help="JSON of labelled events per key: {key: [[start, end]]}")
    p.add_argument(
        "--detectors",
        help="YAML with a 'detectors' list for count series (default: the watchlist's)",
    )
    p.add_argument(
        "--nab",
        nargs=2,
        metavar=("DATA_DIR", "LABELS_JSON"),
        help="score on a Numenta Anomaly Benchmark layout",
    )
    p.add_argument(
        "--out",
        metavar="PATH",
        help="write the figures per key and detector to PATH.csv, or them and every alert "
        "to PATH.json; with --nab: the folder for the per-file results",
    )
    p.add_argument(
        "--plot",
        metavar="DIR",
        help="draw a picture per key into DIR: reports per window, the expected count, "
        "alerts and labelled events",
    )
    p.add_argument(
        "--plot-format",
        choices=["png", "html"],
        default="png",
        help="png, or a self-contained html page with the chart and the key's alerts",
    )
    p = command(
        "detectors",
        _detectors,
        "Print the parameter reference of every detector, installed plugins' included.",
        "watchfloor detectors",
        "watchfloor detectors --write-docs",
    )
    p.add_argument(
        "--write-docs",
        nargs="?",
        const="docs/detection.md",
        default=None,
        metavar="PATH",
        help="write the built-in detectors' reference between the markers of PATH "
        "(default: docs/detection.md)",
    )
    p = command(
        "watchlist",
        _watchlist,
        "Validate a watchlist file (default: the bundled one), and push it to the workers.",
        "watchfloor watchlist my-watchlist.yaml",
        "watchfloor watchlist my-watchlist.yaml --push",
    )
    p.add_argument(
        "path", nargs="?", default=None, help="the YAML file (format: docs/watchlists.md)"
    )
    p.add_argument(
        "--push",
        action="store_true",
        help="then send it to the watchlist topic: every running worker takes it, no restart",
    )
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("watchfloor")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        for line in settings_errors(exc):
            print(f"watchfloor: bad configuration: {line}", file=sys.stderr)
        return 2
    try:
        return int(args.run(args, settings))
    except UserError as exc:
        print(f"watchfloor: {exc}", file=sys.stderr)
        return 2


def settings_errors(exc: ValidationError) -> list[str]:
    """Each error as ``WATCHFLOOR_NAME: what is wrong``, naming the environment variable
    an operator sets rather than the field, and never echoing the value (it may be a
    secret)."""
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = [str(part) for part in error["loc"]]
        name = f"WATCHFLOOR_{loc[0].upper()}" if loc else "WATCHFLOOR_*"
        where = f" (item {'.'.join(loc[1:])})" if len(loc) > 1 else ""
        lines.append(f"{name}{where}: {error['msg']}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
