"""Text normalisation shared by watchlist terms and item text, so both tokenise alike."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise", "region_slug", "tokens"]

_WORD = re.compile(r"\w+")
_SLUG_JUNK = re.compile(r"[^\w]+")


def normalise(text: str) -> str:
    # NFKC folds compatibility forms (ligatures, full-width letters, non-breaking hyphens);
    # casefold is the Unicode-correct lower-casing for caseless matching.
    return unicodedata.normalize("NFKC", text).casefold()


def tokens(text: str) -> list[str]:
    """Word tokens of ``text``: hyphens and punctuation split words, letters of any script."""
    return _WORD.findall(normalise(text))


def region_slug(region: str | None) -> str:
    """``"Eastern Europe"`` → ``"eastern-europe"``; a missing region counts as ``unknown``."""
    if not region:
        return "unknown"
    slug = _SLUG_JUNK.sub("-", normalise(region)).strip("-")
    return slug or "unknown"
