"""``watchfloor backtest`` on data the tests make: count CSVs, a NAB layout, the sample feed."""

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streams.backtest.command import count_records
from streams.backtest.evaluate import evaluate
from streams.backtest.nab import score_series
from streams.backtest.series import CountSeries, SeriesError, read_count_csv, run_series
from streams.cli import main
from streams.detect.detectors import Flatline, Significance, Threshold
from streams.sources.samplefeed import DEFAULT_SURGE, FeedSpec, generate, write_jsonl

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def write_counts(path: Path, counts: list[int], step: timedelta = timedelta(hours=1)) -> list[str]:
    stamps = [(T0 + i * step).strftime("%Y-%m-%d %H:%M:%S") for i in range(len(counts))]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "value"])
        w.writerows(zip(stamps, counts, strict=True))
    return stamps


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_count_backtest_reports_recall_delay_and_false_alerts(tmp_path: Path, capsys) -> None:
    counts = [2] * 200
    counts[50] = 9  # an unlabelled blip: a false alert
    counts[120:124] = [3, 10, 12, 11]  # the labelled event starts at row 120
    stamps = write_counts(tmp_path / "feed.csv", counts)
    labels = write_yaml(
        tmp_path / "labels.json", json.dumps({"feed.csv": [[stamps[120], stamps[130]]]})
    )
    detectors = write_yaml(
        tmp_path / "d.yaml",
        "detectors:\n  - kind: threshold\n    count: 8\n    realert: {cooldown: 6h}\n",
    )
    assert (
        main(
            [
                "backtest",
                str(tmp_path / "feed.csv"),
                "--labels",
                str(labels),
                "--detectors",
                str(detectors),
            ]
        )
        == 0
    )
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("feed.csv"))
    _, detector, _, alerts, events, hit, prec, recall, delay, fa_day, _ = row.split()
    assert detector == "all"
    assert (alerts, events, hit, prec, recall, delay) == ("2", "1", "1", "0.50", "1.00", "1.0")
    assert float(fa_day) == pytest.approx(1 / (200 / 24), abs=0.01)


def test_gaps_between_rows_are_empty_windows(tmp_path: Path) -> None:
    path = tmp_path / "gappy.csv"
    path.write_text(
        "timestamp,count,key\n2026-01-05T00:00:00Z,5,a\n2026-01-05T01:00:00Z,5,a\n2026-01-05T05:00:00Z,5,a\n"
    )
    [series] = read_count_csv(path)
    assert series.key == "a" and series.step == 3600
    run = run_series(series, [Threshold(count=10, windows=3)])
    assert run.alerted == [False, True, False]  # the gap emptied the 3-window timeframe


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,value\n", "needs a timestamp column"),
        ("timestamp,value\nyesterday,3\n", ":2:"),
        ("timestamp,value\n2026-01-05 00:00:00,2.5\n", "whole number"),
        ("timestamp,value\n2026-01-05 01:00:00,1\n2026-01-05 00:00:00,1\n", "does not follow"),
    ],
)
def test_bad_count_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(SeriesError, match=message):
        read_count_csv(path, step=3600)


def test_nab_mode_writes_one_scored_csv_per_file(tmp_path: Path, capsys) -> None:
    data = tmp_path / "data" / "subset"
    data.mkdir(parents=True)
    labels: dict[str, list[list[str]]] = {}
    expected = []
    for name, burst in (("a.csv", 900), ("b.csv", 1400)):
        counts = [3] * 2000
        counts[burst : burst + 5] = [40] * 5
        stamps = write_counts(data / name, counts, timedelta(minutes=5))
        labels[f"subset/{name}"] = [[stamps[burst - 50], stamps[burst + 50]]]
    labels_path = write_yaml(tmp_path / "labels.json", json.dumps(labels))
    detectors = write_yaml(
        tmp_path / "d.yaml",
        "detectors:\n  - kind: threshold\n    count: 30\n    realert: {cooldown: 1d}\n",
    )
    out = tmp_path / "out"
    argv = [
        "backtest",
        "--nab",
        str(tmp_path / "data"),
        str(labels_path),
        "--out",
        str(out),
        "--detectors",
        str(detectors),
    ]
    assert main(argv) == 0
    for name, burst in (("a.csv", 900), ("b.csv", 1400)):
        rows = list(csv.DictReader((out / "subset" / name).read_text().splitlines()))
        assert len(rows) == 2000 and [r["anomaly_score"] for r in rows].count("1.0") == 1
        assert rows[burst]["anomaly_score"] == "1.0"
        expected.append(
            score_series([r["anomaly_score"] == "1.0" for r in rows], [(burst - 50, burst + 50)])
        )
    total = expected[0] + expected[1]
    assert f"NAB standard score {total.normalised:.4f}" in capsys.readouterr().out


def test_item_backtest_uses_the_worker_code_and_finds_the_sample_surge(
    tmp_path: Path, capsys
) -> None:
    feed = tmp_path / "feed.jsonl"
    write_jsonl(feed, generate(FeedSpec(days=28)))
    key = "belarus-men-crossing-eu|eastern-europe"
    span = [DEFAULT_SURGE.start.isoformat(), (DEFAULT_SURGE.end - timedelta(hours=1)).isoformat()]
    labels = write_yaml(tmp_path / "labels.json", json.dumps({key: [span]}))
    assert main(["backtest", str(feed), "--labels", str(labels)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(key))
    _, _, _, alerts, events, hit, prec, recall, delay, _, _ = row.split()
    assert (events, hit, recall, delay) == ("1", "1", "1.00", "0.0")
    assert int(alerts) >= 1 and prec == "1.00"


def test_evaluate_without_labels_reports_alerts_only() -> None:
    report = evaluate("k", [0.0, 3600.0], 3600.0, [True, False], None)
    assert (report.alerts, report.events, report.precision, report.nab) == (1, None, None, None)


def test_a_source_falling_silent_alerts_for_that_publisher() -> None:
    from streams.offline import run_offline
    from streams.settings import Settings
    from streams.signals.watchlist import Watchlist

    watchlist = Watchlist.model_validate(
        {
            "version": "t",
            "signals": [
                {
                    "id": "outlet-alive",
                    "key_by": "publisher",
                    # A feed's liveness is an hourly matter: one scale.
                    "scales": [{"size": "1h"}],
                    "detectors": [
                        {"kind": "flatline", "windows": 6, "realert": {"cooldown": "1d"}}
                    ],
                }
            ],
        }
    )
    items = []
    for hour in range(72):
        for outlet in ("Alpha News", "Beta Wire"):
            if outlet == "Beta Wire" and hour >= 40:
                continue  # Beta's feed dies at hour 40
            at = T0 + timedelta(hours=hour, minutes=10)
            items.append(
                {
                    "id": f"{outlet}-{hour}",
                    "title": f"Bulletin {hour} from {outlet}: {hour * 7919 % 1000} items",
                    "published_at": at.isoformat(),
                    "publisher": outlet,
                }
            )
    run = run_offline((json.dumps(i).encode() for i in items), Settings(), watchlist=watchlist)
    # Six quiet windows (40-45) alert; the one-day cooldown lets the reminder at 69 through.
    assert [(a.key, a.window_start - T0, a.count) for a in run.alerts] == [
        ("outlet-alive|beta-wire", timedelta(hours=45), 0),
        ("outlet-alive|beta-wire", timedelta(hours=69), 0),
    ]


def test_keys_without_labelled_windows_and_empty_inputs_do_not_break(
    tmp_path: Path, capsys
) -> None:
    write_counts(tmp_path / "flat.csv", [3] * 100)
    labels = write_yaml(tmp_path / "labels.json", json.dumps({"flat.csv": []}))
    assert main(["backtest", str(tmp_path / "flat.csv"), "--labels", str(labels)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("flat.csv"))
    assert row.split()[-1] == "-"  # no window: no NAB score, not a division by zero
    (tmp_path / "empty.jsonl").write_text("")
    assert main(["backtest", str(tmp_path / "empty.jsonl")]) == 0


def test_files_of_one_name_in_two_folders_keep_their_own_labels(tmp_path: Path, capsys) -> None:
    labels = {}
    for folder, burst in (("a", 40), ("b", 70)):
        (tmp_path / folder).mkdir()
        counts = [2] * 100
        counts[burst] = 30
        stamps = write_counts(tmp_path / folder / "x.csv", counts)
        labels[f"{folder}/x.csv"] = [[stamps[burst], stamps[burst + 2]]]
    path = write_yaml(tmp_path / "labels.json", json.dumps(labels))
    detectors = write_yaml(tmp_path / "d.yaml", "detectors:\n  - kind: threshold\n    count: 20\n")
    assert (
        main(["backtest", str(tmp_path), "--labels", str(path), "--detectors", str(detectors)]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in lines if line.startswith(("a/x.csv", "b/x.csv"))]
    assert [(r[0], r[5], r[7]) for r in rows] == [
        ("a/x.csv", "1", "1.00"),
        ("b/x.csv", "1", "1.00"),
    ]


def test_alerts_on_missing_rows_are_reported() -> None:
    series = CountSeries("k", 3600.0, [i * 3600.0 for i in range(48)] + [100 * 3600.0], [5] * 49)
    run = run_series(series, [Flatline(windows=24)])
    grid, alerted = run.grid()
    assert len(grid) == 101 and sum(run.alerted) == 0
    assert [i for i, a in enumerate(alerted) if a] == [71, 95]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("timestamp,value,key\n2026-01-05 00:00:00,3\n", ":2:"),
        ("timestamp,value\n2026-01-05 00:00:00,inf\n", "whole number"),
        ("timestamp,value\n2026-01-05 00:00:00,nan\n", "whole number"),
    ],
)
def test_more_bad_count_rows(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(SeriesError, match=message):
        read_count_csv(path, step=3600)


def test_spreadsheet_csv_with_byte_order_mark_and_a_one_row_key(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "\ufefftimestamp,count,key\n2026-01-05 00:00:00,1,a\n2026-01-05 01:00:00,2,a\n"
        "2026-01-05 00:00:00,7,b\n".encode()
    )
    a, b = read_count_csv(path)
    assert (a.key, a.counts, b.key, b.step) == ("a", [1, 2], "b", 3600)


def test_two_detectors_get_rows_of_their_own_and_every_alert_is_listed_with_its_time(
    tmp_path: Path, capsys
) -> None:
    counts = [2] * 100
    counts[40] = 30  # both detectors
    counts[70:74] = [9, 9, 9, 9]  # only the sustained one
    stamps = write_counts(tmp_path / "regional-news-volume-of-a-long-named-source.csv", counts)
    detectors = write_yaml(
        tmp_path / "d.yaml",
        "detectors:\n  - kind: threshold\n    name: spike\n    count: 20\n"
        "  - kind: threshold\n    name: sustained\n    count: 30\n    windows: 4\n"
        "    realert: {cooldown: 12h}\n",
    )
    out = tmp_path / "figures.json"
    args = ["backtest", str(tmp_path / "regional-news-volume-of-a-long-named-source.csv")]
    assert main([*args, "--detectors", str(detectors), "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    key = "regional-news-volume-of-a-long-named-source.csv"  # whole, not cut
    rows = {line.split()[1]: line.split()[3] for line in lines if line.startswith(key)}
    # "all" counts windows that alerted: both detectors crossed on window 40.
    assert rows == {"all": "2", "spike": "1", "sustained": "2"}
    listed = [line.split() for line in lines if line.startswith("2026-")]
    assert [(r[0] + " " + r[1], r[3], r[4]) for r in listed] == [
        (f"{stamps[41][:16]}", "spike", "1h"),
        (f"{stamps[41][:16]}", "sustained", "1h"),
        (f"{stamps[74][:16]}", "sustained", "1h"),
    ]
    data = json.loads(out.read_text())
    assert {(k["key"], k["detector"], k["alerts"]) for k in data["keys"]} == {
        (key, "all", 2),
        (key, "spike", 1),
        (key, "sustained", 2),
    }
    assert (
        data["alerts"][0]["window_end"]
        == datetime.fromisoformat(stamps[41]).replace(tzinfo=UTC).isoformat()
    )
    assert main([*args, "--detectors", str(detectors), "--out", str(tmp_path / "f.csv")]) == 0
    with (tmp_path / "f.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert [(r["detector"], r["alerts"]) for r in table] == [
        ("all", "2"),
        ("spike", "1"),
        ("sustained", "2"),
    ]
    assert main([*args, "--out", str(tmp_path / "f.txt")]) == 2  # neither .json nor .csv


def test_plot_draws_counts_baseline_alerts_and_events_per_key(tmp_path: Path, capsys) -> None:
    counts = [2, 3] * 60
    counts[90] = 25
    stamps = write_counts(tmp_path / "volume.csv", counts)
    labels = write_yaml(tmp_path / "l.json", json.dumps({"volume.csv": [[stamps[89], stamps[92]]]}))
    detectors = write_yaml(tmp_path / "d.yaml", "detectors:\n  - kind: significance\n")
    args = ["backtest", str(tmp_path / "volume.csv"), "--labels", str(labels)]
    assert main([*args, "--detectors", str(detectors), "--plot", str(tmp_path / "png")]) == 0
    png = (tmp_path / "png" / "volume.csv.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    plot_html = ["--plot", str(tmp_path / "html"), "--plot-format", "html"]
    assert main([*args, "--detectors", str(detectors), *plot_html]) == 0
    page = (tmp_path / "html" / "volume.csv.html").read_text()
    assert "<svg" in page and "http" not in page.split("<svg", 1)[0]  # nothing fetched
    assert "expected (baseline)" in page and "labelled events" in page and "alerts (1)" in page
    assert f"<td>{stamps[91][:16]}</td><td>significance</td>" in page


def test_the_expected_count_is_each_windows_baseline_as_the_detector_judged_it() -> None:
    series = CountSeries("k", 3600.0, [i * 3600.0 for i in range(50)], [4] * 50)
    run = run_series(series, [Threshold(count=10), Significance()])
    # The threshold has no baseline; significance learns the level of 4 as it goes.
    assert run.baselines[0] == 0.0 and run.baselines[-1] == pytest.approx(4.0, abs=0.5)
    assert run_series(series, [Threshold(count=10)]).baselines == [None] * 50


def test_record_counts_for_progress_are_known_for_jsonl_only(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(b"{}\n{}\n")
    (tmp_path / "b.jsonl").write_bytes(b"{}\n")
    assert count_records(tmp_path) == 3 and count_records(tmp_path / "b.jsonl") == 1
    (tmp_path / "c.md").write_text("# x")
    assert count_records(tmp_path) is None
