"""One picture per key of a backtest: counts per window, the expected count, the alerts and
the labelled events, as a PNG or a self-contained HTML page (the chart inline as SVG, the
key's alerts in a table). Drawn with matplotlib, an optional dependency (``plot`` extra)."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from streams.backtest.results import KeyTrace

__all__ = ["FORMATS", "PlotUnavailable", "plot_traces"]

FORMATS = ("png", "html")
# Windows drawn per picture: a longer series shows its latest part, where alerts are read.
MOST_WINDOWS = 24 * 60


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed."""


def plot_traces(traces: Sequence[KeyTrace], folder: Path, fmt: str = "png") -> list[Path]:
    """A file per key in ``folder``, named after the key; returns their paths."""
    if fmt not in FORMATS:
        raise ValueError(f"--plot-format is one of {', '.join(FORMATS)}, not {fmt!r}")
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: files only
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlotUnavailable("--plot needs matplotlib: pip install 'watchfloor[plot]'") from exc
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for trace in traces:
        if not trace.starts:
            continue
        fig = _figure(plt, trace)
        path = folder / f"{_file_name(trace.key)}.{fmt}"
        if fmt == "png":
            fig.savefig(path, dpi=110)
        else:
            svg = io.StringIO()
            fig.savefig(svg, format="svg")
            path.write_text(_page(trace, svg.getvalue()), encoding="utf-8")
        plt.close(fig)
        written.append(path)
    return written


def _figure(plt: Any, trace: KeyTrace) -> Any:
    keep = slice(max(0, len(trace.starts) - MOST_WINDOWS), None)
    starts, counts = trace.starts[keep], trace.counts[keep]
    baselines = trace.baselines[keep] if trace.baselines else []
    times = [_utc(s) for s in starts]
    width = trace.step / 86400  # days, matplotlib's date unit
    fig, ax = plt.subplots(figsize=(11, 3.6), layout="constrained")
    for first, last in trace.events or ():
        ax.axvspan(_utc(first), _utc(last), color="#f4c542", alpha=0.25, lw=0)
    ax.bar(times, counts, width=width, align="edge", color="#4c78a8", label="reports per window")
    if any(b is not None for b in baselines):
        ax.step(
            times,
            [float("nan") if b is None else b for b in baselines],
            where="post",
            color="#e45756",
            lw=1.4,
            label="expected (baseline)",
        )
    shown = [a for a in trace.alerts if starts and a.window_start >= starts[0]]
    if shown:
        top = max(counts) if counts else 1
        ax.scatter(
            [_utc(a.window_end) for a in shown],
            [top * 1.08] * len(shown),
            marker="v",
            color="#222222",
            zorder=3,
            label=f"alerts ({len(shown)})",
        )
    if trace.events:
        ax.plot([], [], color="#f4c542", lw=6, alpha=0.5, label="labelled events")
    ax.set_title(trace.key, loc="left", fontsize=11)
    ax.set_ylabel(f"reports per {_duration(trace.step)}")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.grid(axis="y", color="#dddddd", lw=0.6)
    fig.autofmt_xdate()
    return fig


def _page(trace: KeyTrace, svg: str) -> str:
    rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                _utc(a.window_end).strftime("%Y-%m-%d %H:%M"),
                a.detector,
                a.scale,
                a.update,
                a.count,
                f"{a.baseline:.1f}",
                a.severity or "-",
            )
        )
        + "</tr>"
        for a in trace.alerts
    )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "window end (UTC)",
            "detector",
            "scale",
            "update",
            "count",
            "expected",
            "severity",
        )
    )
    svg_body = svg[svg.index("<svg") :]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(trace.key)}: backtest</title>"
        "<style>body{font:14px system-ui,sans-serif;margin:1.5em}"
        "table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #ddd;"
        "text-align:left}</style></head><body>"
        f"<h1>{html.escape(trace.key)}</h1>{svg_body}"
        f"<h2>{len(trace.alerts)} alerts</h2><table><tr>{head}</tr>\n{rows}</table>"
        "</body></html>\n"
    )


def _file_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", key).strip("_") or "key"


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _duration(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = int(seconds // size)
            return unit if n == 1 else f"{n} {unit}s"
    return f"{seconds:g} s"
