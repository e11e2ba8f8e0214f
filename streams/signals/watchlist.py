"""Watchlists: which signals to recognise and how, loaded from validated YAML.

A signal matches an item when every group of ``all_of`` has at least one term in the
item's text (title, deck and body), no ``exclude`` term occurs, and the item passes the
metadata filters; a signal without groups matches every item that passes the filters.
Terms are words or phrases, matched case-insensitively on whole words; a trailing ``*``
on a word matches any ending (``conscript*``: conscript, conscription).
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, cast

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from streams.detect.detectors import DetectorBase, DetectorSpec, Seasonal
from streams.detect.realert import Duration, Realert
from streams.detect.scales import DEFAULT_SCALES, ScaleSpec
from streams.signals.text import slug, tokens

__all__ = [
    "Signal",
    "TermGroup",
    "Terms",
    "Watchlist",
    "WatchlistError",
    "flat_terms",
    "load_watchlist",
    "parse_watchlist",
]

# As the bundled watchlist's (docs/detection.md): cold_count chosen leave-one-seed-out.
DEFAULT_DETECTOR = Seasonal(
    cold_count=8,
    realert=Realert(cooldown=3 * 3600, backoff=2, max_cooldown=86400),
)


SignalId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=100)]


def _check_term(term: str) -> str:
    words = term.split()
    if not words or not tokens(term.replace("*", "")):
        raise ValueError(f"term {term!r} has no word characters")
    for word in words:
        if "*" in word[:-1] or word == "*":
            raise ValueError(f"term {term!r}: '*' may only end a word")
    return term


Term = Annotated[str, AfterValidator(_check_term)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")]
Terms = list[Term] | dict[Language, list[Term]]
"""Terms as one list, or as lists per language (BCP 47 tag); every term applies to every
item, the languages only organise the file and its review."""


def flat_terms(terms: Terms) -> list[str]:
    if isinstance(terms, dict):
        return [t for per_language in terms.values() for t in per_language]
    return list(terms)


class TermGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="What the group stands for, shown in docs.")
    terms: Terms

    @field_validator("terms")
    @classmethod
    def _not_empty(cls, terms: Terms) -> Terms:
        if not flat_terms(terms):
            raise ValueError("a term group needs at least one term")
        return terms


class Signal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: SignalId
    description: str = ""
    all_of: list[TermGroup] = Field(
        default_factory=list,
        description="Term groups that must all occur; none: every item passing the filters.",
    )
    within: Literal["item", "sentence"] | Annotated[int, Field(ge=2, le=200)] = Field(
        default="item",
        description="Where every group must occur together: anywhere in the item, in one "
        "sentence, or within this many consecutive words.",
    )
    exclude: Terms = Field(default_factory=list, description="Any of these vetoes a match.")
    regions: list[str] | None = Field(
        default=None, description="Only items from these regions (names or slugs)."
    )
    categories: list[str] | None = Field(
        default=None, description="Only items of these categories (case-insensitive)."
    )
    min_importance: int | None = Field(default=None, ge=1, le=10)
    weight: float = Field(
        default=1.0,
        gt=0,
        le=10,
        description="How much the signal matters: scales the strength its alerts are "
        "judged by for severity (2: a burst counts as twice as strong).",
    )
    key_by: Literal["region", "publisher"] = Field(
        default="region",
        description="What a key counts: the signal per region, or per publisher (its "
        "region is then 'all'), e.g. to notice one outlet falling silent.",
    )
    detectors: list[DetectorSpec] | None = Field(
        default=None,
        min_length=1,
        description="Detectors for this signal's keys; unset: the watchlist's detectors.",
    )
    scales: list[ScaleSpec] | None = Field(
        default=None,
        min_length=1,
        description="Window sizes this signal is judged at; unset: the watchlist's scales.",
    )

    @field_validator("detectors")
    @classmethod
    def _unique_names(cls, detectors: list[DetectorBase] | None) -> list[DetectorBase] | None:
        _check_unique_labels(detectors or [])
        return detectors

    @property
    def region_slugs(self) -> frozenset[str] | None:
        return None if self.regions is None else frozenset(map(slug, self.regions))

    @property
    def category_slugs(self) -> frozenset[str] | None:
        return None if self.categories is None else frozenset(map(slug, self.categories))


class Watchlist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1, description="Carried in every alert.")
    signals: list[Signal] = Field(min_length=1)
    detectors: list[DetectorSpec] = Field(
        default_factory=lambda: cast(list[DetectorSpec], [DEFAULT_DETECTOR]),
        min_length=1,
        description="Detectors of every signal that names none of its own.",
    )
    scales: list[ScaleSpec] = Field(
        default_factory=lambda: list(DEFAULT_SCALES),
        min_length=1,
        description="Window sizes every signal that names none of its own is judged at, "
        "each by every detector of the signal: by default 1h, 6h and 1d.",
    )
    burst_quiet: Duration = Field(
        default=6 * 3600.0,
        description="A key's burst ends once none of its windows has crossed for this "
        "long; the next crossing opens a new burst.",
    )

    @field_validator("detectors")
    @classmethod
    def _unique_names(cls, detectors: list[DetectorBase]) -> list[DetectorBase]:
        _check_unique_labels(detectors)
        return detectors

    def detectors_of(self, signal: Signal) -> list[DetectorBase]:
        return list(signal.detectors if signal.detectors is not None else self.detectors)

    def detectors_of_key(self, key: str) -> list[DetectorBase]:
        """The detectors of the signal of ``key`` (``signal|region``); the watchlist's own
        for a signal it does not name."""
        signal_id = key.split("|")[0]
        signal = next((s for s in self.signals if s.id == signal_id), None)
        return self.detectors_of(signal) if signal is not None else list(self.detectors)

    def scales_of(self, signal: Signal) -> list[ScaleSpec]:
        return list(signal.scales if signal.scales is not None else self.scales)

    @field_validator("signals")
    @classmethod
    def _unique_ids(cls, signals: list[Signal]) -> list[Signal]:
        seen: set[str] = set()
        for signal in signals:
            if signal.id in seen:
                raise ValueError(f"signal id {signal.id!r} appears twice")
            seen.add(signal.id)
        return signals


def _check_unique_labels(detectors: list[DetectorBase]) -> None:
    labels = [d.label for d in detectors]
    for label in labels:
        if labels.count(label) > 1:
            raise ValueError(
                f"two detectors are called {label!r}: give one of them a distinct 'name'"
            )


class WatchlistError(ValueError):
    """A watchlist file that cannot be used; the message names the file and the field."""


def load_watchlist(path: Path | None = None) -> Watchlist:
    """Load and validate a watchlist; ``None`` loads the bundled five-signal watchlist."""
    if path is None:
        source = resources.files("streams.data").joinpath("watchlist.yaml")
        where, text = "bundled watchlist.yaml", source.read_text(encoding="utf-8")
    else:
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise WatchlistError(f"{where}: cannot read: {exc.strerror}") from exc
    return parse_watchlist(text, where)


def parse_watchlist(text: str, where: str) -> Watchlist:
    """Validate a watchlist's YAML text; ``where`` names it in errors."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WatchlistError(f"{where}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise WatchlistError(f"{where}: expected a mapping with 'version' and 'signals'")
    # The content hash makes the version change whenever the rules do, even if the
    # author forgets to bump it; alerts then say exactly which rules produced them.
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    data["version"] = f"{data.get('version', 'unversioned')}+{digest}"
    try:
        return Watchlist.model_validate(data)
    except ValidationError as exc:
        raise WatchlistError(_describe(where, data, exc)) from None


def _describe(where: str, data: dict[str, object], exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        loc = list(err["loc"])
        field = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc)
        field = field.replace(".[", "[")
        signal = _signal_id_at(data, loc)
        prefix = f"signal {signal!r}: " if signal else ""
        problems.append(f"{prefix}{field}: {err['msg']}")
    return f"{where}: " + "; ".join(problems)


def _signal_id_at(data: dict[str, object], loc: list[int | str]) -> str | None:
    if len(loc) >= 2 and loc[0] == "signals" and isinstance(loc[1], int):
        signals = data.get("signals")
        if isinstance(signals, list) and loc[1] < len(signals):
            entry = signals[loc[1]]
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                return entry["id"]
    return None
