"""One pass over an item's words finds every term of every signal of a watchlist.

Terms compile into an index keyed by their first word (exact words in a dict, ``word*``
prefixes in a dict per prefix length), so the cost per item is a few dict look-ups per
word, whatever the number of signals: no loop of regexes per signal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from streams.signals.text import region_slug, tokens
from streams.signals.watchlist import Signal, Watchlist

__all__ = ["Match", "Matcher"]

# Distinct words remembered before the memo starts afresh: bounds memory on odd input.
_MEMO_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    prefix: bool

    def accepts(self, token: str) -> bool:
        return token.startswith(self.text) if self.prefix else token == self.text


@dataclass(frozen=True, slots=True)
class _Term:
    """A compiled term; ``slot`` indexes the per-item bitmap of found terms."""

    words: tuple[_Word, ...]
    slot: int


@dataclass(frozen=True, slots=True)
class Match:
    signal_id: str
    region: str
    terms: tuple[str, ...]
    key: str
    """``signal|region``, or ``signal|publisher`` for signals keyed by publisher."""


@dataclass(frozen=True, slots=True)
class _CompiledSignal:
    signal: Signal
    groups: tuple[frozenset[int], ...]
    exclude: frozenset[int]
    regions: frozenset[str] | None


class Matcher:
    def __init__(self, watchlist: Watchlist) -> None:
        self.version = watchlist.version
        self._slots: dict[tuple[_Word, ...], int] = {}
        self._labels: list[str] = []
        self._exact: dict[str, list[_Term]] = defaultdict(list)
        self._prefix: dict[int, dict[str, list[_Term]]] = defaultdict(lambda: defaultdict(list))
        self._signals = tuple(self._compile(s) for s in watchlist.signals)
        self._prefix_lengths = sorted(self._prefix)
        self._match_all = any(not s.all_of for s in watchlist.signals)
        self._memo: dict[str, tuple[_Term, ...]] = {}

    def match(
        self,
        title: str,
        text: Iterable[str | None],
        region: str | None,
        importance: int | None,
        publisher: str | None = None,
    ) -> list[Match]:
        """Signals the item matches, each with the watchlist terms found, in list order."""
        found = self._find(" \n ".join([title, *(t for t in text if t)]))
        if not found and not self._match_all:
            return []
        slug = region_slug(region)
        matches = []
        for cs in self._signals:
            if cs.regions is not None and slug not in cs.regions:
                continue
            floor = cs.signal.min_importance
            if floor is not None and (importance is None or importance < floor):
                continue
            if cs.exclude & found or not all(g & found for g in cs.groups):
                continue
            hit = sorted(set().union(*cs.groups) & found)
            terms = tuple(self._labels[i] for i in hit)
            if cs.signal.key_by == "publisher":
                key = f"{cs.signal.id}|{region_slug(publisher)}"
                matches.append(Match(cs.signal.id, "all", terms, key))
            else:
                matches.append(Match(cs.signal.id, slug, terms, f"{cs.signal.id}|{slug}"))
        return matches

    def _find(self, text: str) -> set[int]:
        words = tokens(text)
        found: set[int] = set()
        memo = self._memo
        for i, word in enumerate(words):
            candidates = memo.get(word)
            if candidates is None:
                candidates = self._candidates(word)
            if candidates:
                self._extend(candidates, words, i, found)
        return found

    def _candidates(self, word: str) -> tuple[_Term, ...]:
        """Terms whose first word accepts ``word``, memoised: vocabulary repeats a lot."""
        found = list(self._exact.get(word, ()))
        for n in self._prefix_lengths:
            if n > len(word):
                break
            found.extend(self._prefix[n].get(word[:n], ()))
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[word] = result = tuple(found)
        return result

    @staticmethod
    def _extend(candidates: tuple[_Term, ...], words: list[str], i: int, found: set[int]) -> None:
        for term in candidates:
            if term.slot in found:
                continue
            rest = term.words[1:]
            if len(rest) <= len(words) - i - 1 and all(
                w.accepts(words[i + 1 + k]) for k, w in enumerate(rest)
            ):
                found.add(term.slot)

    def _compile(self, signal: Signal) -> _CompiledSignal:
        groups = tuple(frozenset(map(self._slot, g.terms)) for g in signal.all_of)
        return _CompiledSignal(
            signal, groups, frozenset(map(self._slot, signal.exclude)), signal.region_slugs
        )

    def _slot(self, label: str) -> int:
        """Register a term once, however many signals and groups use it."""
        words = _compile_words(label)
        if words in self._slots:
            return self._slots[words]
        slot = len(self._labels)
        self._slots[words] = slot
        self._labels.append(label)
        term = _Term(words, slot)
        first = words[0]
        if first.prefix:
            self._prefix[len(first.text)][first.text].append(term)
        else:
            self._exact[first.text].append(term)
        return slot


def _compile_words(label: str) -> tuple[_Word, ...]:
    """``"military-aged men*"`` → military, aged, men (prefix): split like item text is."""
    words: list[_Word] = []
    for raw in label.split():
        pieces = tokens(raw.removesuffix("*"))
        for j, piece in enumerate(pieces):
            words.append(_Word(piece, prefix=raw.endswith("*") and j == len(pieces) - 1))
    return tuple(words)
