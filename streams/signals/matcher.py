"""One pass over an item's words finds every term of every signal of a watchlist.

The item is cut into sentences, folded (see ``text``) and rejoined as ``" w1 w2 ... "``.
One Aho–Corasick automaton (pyahocorasick, in C) holds the first word of every term of
every signal, as ``" word "`` for an exact word or ``" word"`` for a ``word*`` prefix,
so a single scan of the sentence finds every place a term may start; the term's further
words are then checked there. No loop of regexes per signal. ``bench/matching.py``
times the scan against the dict-per-word index this replaced.

Each signal then checks where its groups occurred: anywhere in the item, within one
sentence, or within N consecutive words, and reports the sentence where they met. Before
any of that, a second automaton, of whole terms, scans the whole item's folded words once
and tells whether some signal has a term of each of its groups anywhere in the item; most
items have none and stop there, having cost a few C loops.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass

import ahocorasick

from streams.models import RawItem
from streams.signals.text import screen_line, sentences, slug, tokens, word_line
from streams.signals.watchlist import Signal, Watchlist, flat_terms

__all__ = ["Match", "Matcher"]

# Longest evidence sentence kept with a hit.
SENTENCE_LIMIT = 600


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    prefix: bool

    def accepts(self, token: str) -> bool:
        if not self.prefix:
            return token == self.text
        # The skeleton folds "kh" to "h": "kazak*" must still take "kazakh..." (kazah...).
        return token.startswith(self.text) or (
            self.text.endswith("k") and token.startswith(self.text[:-1] + "h")
        )


@dataclass(frozen=True, slots=True)
class _Term:
    """A compiled term; ``slot`` indexes the per-item table of found terms."""

    words: tuple[_Word, ...]
    slot: int


@dataclass(frozen=True, slots=True)
class Match:
    signal_id: str
    region: str
    terms: tuple[str, ...]
    key: str
    """``signal|region``, or ``signal|publisher`` for signals keyed by publisher."""
    sentence: str
    """Where the signal's groups met (for ``within: item``, the sentence holding most)."""
    weight: float


@dataclass(frozen=True, slots=True)
class _CompiledSignal:
    signal: Signal
    groups: tuple[frozenset[int], ...]
    exclude: frozenset[int]
    regions: frozenset[str] | None
    categories: frozenset[str] | None


@dataclass(slots=True)
class _Found:
    """Where terms occurred in one item: word positions run on across sentences."""

    positions: dict[int, list[int]]
    sentence_of: list[int]
    texts: list[str]


class Matcher:
    def __init__(self, watchlist: Watchlist) -> None:
        self.version = watchlist.version
        self._slots: dict[tuple[_Word, ...], int] = {}
        self._labels: list[str] = []
        self._lengths: list[int] = []  # words per term, by slot
        self._exact: dict[str, list[_Term]] = defaultdict(list)
        self._prefix: dict[int, dict[str, list[_Term]]] = defaultdict(lambda: defaultdict(list))
        self._signals = tuple(self._compile(s) for s in watchlist.signals)
        self._match_all = any(not s.all_of for s in watchlist.signals)
        self._automaton = ahocorasick.Automaton()
        for word, terms in self._exact.items():
            self._automaton.add_word(f" {word} ", (len(word) + 2, tuple(terms)))
        for by_text in self._prefix.values():
            for word, terms in by_text.items():
                self._automaton.add_word(f" {word}", (len(word) + 1, tuple(terms)))
                if word.endswith("k"):  # see _Word.accepts
                    variant = f" {word[:-1]}h"
                    merged = tuple(terms) + (self._automaton.get(variant, (0, ()))[1])
                    self._automaton.add_word(variant, (len(word) + 1, merged))
        if len(self._automaton):
            self._automaton.make_automaton()
        # The whole-item screen's keys are whole terms, up to their first ``word*``: an item
        # holding "new" but not "new service obligations" stops there. Keys and items are
        # read as screen lines (``text.screen_line``); a term whose words are all h and k
        # has no key there and counts as present in every item.
        # Slots as bits of one int: an item's terms are then OR-ed and tested in C.
        self._candidates = ahocorasick.Automaton()
        self._everywhere = 0
        for words, slot in self._slots.items():
            for key in _scan_keys(words):
                screened = " " + screen_line(key) + (" " if key.endswith(" ") else "")
                if len(screened.split()) < len(key.split()):
                    self._everywhere |= 1 << slot
                    continue
                self._candidates.add_word(screened, self._candidates.get(screened, 0) | 1 << slot)
        if len(self._candidates):
            self._candidates.make_automaton()
        self._group_bits = tuple(
            tuple(sum(1 << slot for slot in group) for group in cs.groups) for cs in self._signals
        )

    def match(self, item: RawItem) -> list[Match]:
        """Signals the item matches, each with the terms found and where, in list order."""
        parts = [item.title, item.deck, item.body]
        if not self.may_match(" ".join(p for p in parts if p)):
            return []
        found = self._find(parts)
        if not found.positions and not self._match_all:
            return []
        region = slug(item.region)
        category = slug(item.category) if item.category else None
        have = 0
        for slot in found.positions:
            have |= 1 << slot
        matches = []
        for cs, groups in zip(self._signals, self._group_bits, strict=True):
            # A signal with a group of which no term occurred cannot meet: most cannot.
            if not all(group & have for group in groups):
                continue
            if cs.regions is not None and region not in cs.regions:
                continue
            if cs.categories is not None and category not in cs.categories:
                continue
            floor = cs.signal.min_importance
            if floor is not None and (item.importance is None or item.importance < floor):
                continue
            if cs.exclude & found.positions.keys():
                continue
            where = _meeting(cs, found, self._lengths)
            if where is None:
                continue
            hit = sorted(set().union(*cs.groups) & found.positions.keys())
            terms = tuple(self._labels[i] for i in hit)
            sentence = " ".join(found.texts[where[0] : where[1] + 1])[:SENTENCE_LIMIT]
            if cs.signal.key_by == "publisher":
                key, key_region = f"{cs.signal.id}|{slug(item.publisher)}", "all"
            else:
                key, key_region = f"{cs.signal.id}|{region}", region
            matches.append(Match(cs.signal.id, key_region, terms, key, sentence, cs.signal.weight))
        return matches

    def may_match(self, text: str) -> bool:
        """Whether some signal could match an item whose title, deck and body, joined by
        spaces, are ``text``: whether it has a term of each group of some signal (read up
        to its first ``word*``) anywhere. One scan of the whole item, in C but for the few
        terms found. Most items have none and are done with here; ``match`` cuts the
        others into sentences and checks their terms and distances (``_find``).

        Never wrong when it says no; it may say yes to an item that does not match.
        """
        if self._match_all:
            return True
        if not len(self._candidates):
            return bool(self._everywhere) and any(
                all(group & self._everywhere for group in groups) for groups in self._group_bits
            )
        line = screen_line(text)
        if not text.isascii() and "'" in text:
            # Folding drops an ASCII apostrophe only in text with non-ASCII characters, and
            # ``_find`` folds sentence by sentence: an English sentence of an item that has
            # an en dash elsewhere reads "russia s" there, "russias" here. Both readings.
            line += " " + screen_line(text.replace("'", " "))
        present = self._everywhere
        for _, slots in self._candidates.iter(" " + line + " "):
            present |= slots
        if not present:
            return False
        # Loops, not any() and all() over generators: this runs for most items.
        for groups in self._group_bits:
            for group in groups:
                if not group & present:
                    break
            else:
                return True
        return False

    def _find(self, parts: list[str | None]) -> _Found:
        texts = [s for part in parts if part for s in sentences(part)]
        positions: dict[int, list[int]] = {}
        sentence_of: list[int] = []
        scan = self._automaton.iter if len(self._automaton) else None
        for index, text in enumerate(texts):
            joined = word_line(text)
            words = joined.split()
            base = len(sentence_of)
            sentence_of.extend([index] * len(words))
            if scan is None or not words:
                continue
            line = " " + joined + " "
            for end, (length, candidates) in scan(line):
                # A key's match is its first word with the space before it: the spaces up
                # to that space count the words before. Counted in C, and only where a
                # key is found, not word by word.
                i = line.count(" ", 0, end - length + 2) - 1
                for term in candidates:
                    rest = term.words[1:]
                    if len(rest) <= len(words) - i - 1 and all(
                        w.accepts(words[i + 1 + k]) for k, w in enumerate(rest)
                    ):
                        positions.setdefault(term.slot, []).append(base + i)
        return _Found(positions, sentence_of, texts)

    def _compile(self, signal: Signal) -> _CompiledSignal:
        groups = tuple(frozenset(map(self._slot, flat_terms(g.terms))) for g in signal.all_of)
        return _CompiledSignal(
            signal,
            groups,
            frozenset(map(self._slot, flat_terms(signal.exclude))),
            signal.region_slugs,
            signal.category_slugs,
        )

    def _slot(self, label: str) -> int:
        """Register a term once, however many signals and groups use it."""
        words = _compile_words(label)
        if words in self._slots:
            return self._slots[words]
        slot = len(self._labels)
        self._slots[words] = slot
        self._labels.append(label)
        self._lengths.append(len(words))
        term = _Term(words, slot)
        first = words[0]
        if first.prefix:
            self._prefix[len(first.text)][first.text].append(term)
        else:
            self._exact[first.text].append(term)
        return slot


def _meeting(cs: _CompiledSignal, found: _Found, lengths: list[int]) -> tuple[int, int] | None:
    """The sentences (first, last) where every group of the signal occurs, or None."""
    if not cs.groups:
        return (0, 0) if found.texts else None
    # Each occurrence as (first word, last word): a phrase ends words after it starts.
    per_group: list[list[tuple[int, int]]] = []
    for group in cs.groups:
        hits = sorted(
            (p, p + lengths[slot] - 1)
            for slot in group & found.positions.keys()
            for p in found.positions[slot]
        )
        if not hits:
            return None
        per_group.append(hits)
    sentence_of = found.sentence_of
    within = cs.signal.within
    if within == "item":
        # Every group is somewhere; show the sentence where most of them are.
        counts: dict[int, int] = defaultdict(int)
        for hits in per_group:
            for s in {sentence_of[p] for p, _ in hits}:
                counts[s] += 1
        best = max(counts, key=lambda s: (counts[s], -s))
        return best, best
    if within == "sentence":
        shared = set.intersection(*({sentence_of[p] for p, _ in hits} for hits in per_group))
        return (min(shared), min(shared)) if shared else None
    span = _shortest_span(per_group)
    if span is None or span[1] - span[0] + 1 > within:
        return None
    return sentence_of[span[0]], sentence_of[span[1]]


def _shortest_span(per_group: list[list[tuple[int, int]]]) -> tuple[int, int] | None:
    """The shortest run of words holding a whole occurrence of every group.

    For each possible first word L, each group's best choice is the occurrence starting at
    or after L that ends soonest (a suffix minimum over occurrences sorted by start).
    """
    starts = [[start for start, _ in hits] for hits in per_group]
    soonest_end = []
    for hits in per_group:
        ends, best = [0] * len(hits), math.inf
        for k in range(len(hits) - 1, -1, -1):
            best = min(best, hits[k][1])
            ends[k] = int(best)
        soonest_end.append(ends)
    shortest: tuple[int, int] | None = None
    for left in sorted({start for group in starts for start in group}):
        right = left
        for group_starts, ends in zip(starts, soonest_end, strict=True):
            k = bisect.bisect_left(group_starts, left)
            if k == len(group_starts):
                return shortest  # a group has nothing left at or after here
            right = max(right, ends[k])
        if shortest is None or right - left < shortest[1] - shortest[0]:
            shortest = (left, right)
    return shortest


def _scan_keys(words: tuple[_Word, ...]) -> list[str]:
    """Keys that find a term in a line of words: ``" a b "``, or up to its first prefix
    word, ``" a b"`` (and ``" a bah"`` for ``bak*``, see ``_Word.accepts``)."""
    exact: list[str] = []
    for word in words:
        if word.prefix:
            head = " " + " ".join([*exact, ""])
            keys = [head + word.text]
            if word.text.endswith("k"):
                keys.append(head + word.text[:-1] + "h")
            return keys
        exact.append(word.text)
    return [" " + " ".join(exact) + " "]


def _compile_words(label: str) -> tuple[_Word, ...]:
    """``"military-aged men*"`` → military, aged, men (prefix): split like item text is."""
    words: list[_Word] = []
    for raw in label.split():
        pieces = tokens(raw.removesuffix("*"))
        for j, piece in enumerate(pieces):
            words.append(_Word(piece, prefix=raw.endswith("*") and j == len(pieces) - 1))
    return tuple(words)
