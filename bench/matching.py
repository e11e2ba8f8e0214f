"""Signal matching on the project's labelled multilingual corpus: precision and recall.

    python bench/matching.py [--half dev|test|all] [--misses]

``tests/data/signal_corpus.jsonl`` holds 364 items in English, Russian, Belarusian,
Ukrainian, Polish, Lithuanian, Latvian (and a few German), each labelled with the signals
it genuinely reports: plain reports, paraphrases that avoid the obvious keywords, hard
near-misses and unrelated news. Items with an odd number form the ``dev`` half (look at
its misses when improving the watchlist), even ones the ``test`` half (report it, don't
tune on it).

Prints per signal: true positives, false positives, false negatives, precision, recall;
recall on paraphrases alone; false positives on near-misses; per language; and the
matcher's speed, with its Aho–Corasick scan timed against a compiled regex alternation of
the same terms over the same folded sentences, and on the sample feed (traffic where few
items hold a signal) with its whole-item candidate scan against the per-sentence path
alone.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import orjson

from streams.models import RawItem
from streams.signals.matcher import Matcher
from streams.signals.text import sentences, tokens
from streams.signals.watchlist import Watchlist, flat_terms, load_watchlist
from streams.sources.samplefeed import generate

T = TypeVar("T")
CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "signal_corpus.jsonl"


def load(half: str) -> list[dict[str, object]]:
    items = [orjson.loads(line) for line in CORPUS.read_bytes().splitlines() if line.strip()]
    if half == "all":
        return items
    parity = 1 if half == "dev" else 0
    return [i for i in items if int(str(i["id"]).rsplit("-", 1)[1]) % 2 == parity]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--half", choices=["dev", "test", "all"], default="all")
    parser.add_argument("--misses", action="store_true", help="list the misses and false alarms")
    args = parser.parse_args()
    watchlist = load_watchlist()
    matcher = Matcher(watchlist)
    items = load(args.half)
    raw = [RawItem.model_validate(i) for i in items]
    predicted = [{m.signal_id for m in matcher.match(r)} for r in raw]
    signals = [s.id for s in watchlist.signals]

    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    para: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    near_fp: Counter[str] = Counter()
    by_language: dict[str, Counter[str]] = defaultdict(Counter)
    misses = []
    for item, got in zip(items, predicted, strict=True):
        truth = set(item["labels"])  # type: ignore[call-overload]
        lang = str(item["language"])
        for s in signals:
            if s in got and s in truth:
                tp[s] += 1
                by_language[lang]["tp"] += 1
            elif s in got:
                fp[s] += 1
                by_language[lang]["fp"] += 1
                near_fp[s] += item["kind"] == "near-miss"
                misses.append(("false alarm", s, item))
            elif s in truth:
                fn[s] += 1
                by_language[lang]["fn"] += 1
                misses.append(("missed", s, item))
            if s in truth and item["kind"] == "paraphrase":
                para[s][1] += 1
                para[s][0] += s in got

    print(f"{len(items)} items ({args.half}); watchlist {watchlist.version}")
    print(
        f"{'signal':40s} {'TP':>4s} {'FP':>4s} {'FN':>4s} {'precision':>9s} {'recall':>6s} "
        f"{'paraphrase recall':>17s} {'near-miss FP':>12s}"
    )
    for s in [*signals, "all"]:
        t = sum(tp.values()) if s == "all" else tp[s]
        f = sum(fp.values()) if s == "all" else fp[s]
        n = sum(fn.values()) if s == "all" else fn[s]
        p_hit, p_all = (
            (sum(v[0] for v in para.values()), sum(v[1] for v in para.values()))
            if s == "all"
            else para[s]
        )
        near = sum(near_fp.values()) if s == "all" else near_fp[s]
        print(
            f"{s:40s} {t:4d} {f:4d} {n:4d} {_ratio(t, t + f):>9s} {_ratio(t, t + n):>6s} "
            f"{f'{p_hit}/{p_all}':>17s} {near:12d}"
        )
    print(
        "per language:",
        ", ".join(
            f"{lang} P {_ratio(c['tp'], c['tp'] + c['fp'])} R {_ratio(c['tp'], c['tp'] + c['fn'])}"
            for lang, c in sorted(by_language.items())
        ),
    )
    if args.misses:
        for what, s, item in misses:
            print(
                f"  {what:11s} {s:40s} {item['id']} [{item['language']}/{item['kind']}] "
                f"{item['title']}"
            )
    _speed(matcher, watchlist, raw)
    return 0


def _speed(matcher: Matcher, watchlist: Watchlist, raw: list[RawItem]) -> None:
    """The matcher's Aho-Corasick scan against one compiled regex alternation of the same
    first words, both over the same folded sentences, timed in the same run."""
    rounds = 10
    lines = [
        " " + " ".join(tokens(s)) + " "
        for item in raw
        for part in (item.title, item.deck, item.body)
        if part
        for s in sentences(part)
    ]
    full = _per_second(raw, rounds, matcher.match)
    automaton = matcher._automaton
    scan = _per_second(lines, rounds, lambda line: list(automaton.iter(line)))
    words = set()
    for signal in watchlist.signals:
        for term in [t for g in signal.all_of for t in flat_terms(g.terms)]:
            first = tokens(term.split()[0].rstrip("*"))
            if first:
                words.add(re.escape(first[0]) + ("" if term.split()[0].endswith("*") else r"\b"))
    alternation = re.compile(r"\b(?:" + "|".join(sorted(words, key=len, reverse=True)) + ")")
    regex = _per_second(lines, rounds, lambda line: list(alternation.finditer(line)))
    print(f"speed: {full:,.0f} items/s matched (fold, sentences, terms, co-occurrence);")
    print(
        f"       finding term starts: Aho-Corasick {scan:,.0f} sentences/s, compiled regex "
        f"alternation {regex:,.0f} sentences/s; ratio {scan / regex:.1f}"
    )
    _traffic_speed(matcher)


def _traffic_speed(matcher: Matcher) -> None:
    """On traffic as it comes (the sample feed, where few items hold a signal): matching
    with the whole-item candidate scan, against the per-sentence path alone, same run."""
    feed = [RawItem.model_validate(i) for i in generate()]
    hits = sum(1 for item in feed if matcher.match(item))
    screened = _per_second(feed, 3, matcher.match)
    # The same matcher with every item let through to the per-sentence path.
    unscreened = copy.copy(matcher)
    unscreened.may_match = lambda _text: True  # type: ignore[method-assign]
    assert sum(1 for item in feed if unscreened.match(item)) == hits
    plain = _per_second(feed, 3, unscreened.match)
    print(
        f"       sample feed ({len(feed):,} items, {hits} with a hit): {screened:,.0f} "
        f"items/s with the whole-item candidate scan, {plain:,.0f} without; "
        f"ratio {screened / plain:.2f}"
    )


def _per_second(inputs: Sequence[T], rounds: int, work: Callable[[T], object]) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        for one in inputs:
            work(one)
    return rounds * len(inputs) / (time.perf_counter() - started)


def _ratio(a: int, b: int) -> str:
    return "-" if b == 0 else f"{a / b:.3f}"


if __name__ == "__main__":
    sys.exit(main())
