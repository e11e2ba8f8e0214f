"""Text normalisation shared by watchlist terms and item text, so both tokenise alike.

Folding makes the spellings of one word across the region's languages meet:

- Unicode NFKC (ligatures, full-width letters, non-breaking hyphens) and case folding;
- Cyrillic is transliterated to Latin (``Беларусь`` → ``belarus``), so a Cyrillic term
  matches Cyrillic text and its usual Latin transliteration, and a Latin term matches both;
- diacritics and letters such as ``ł``, ``ø``, ``ß`` are reduced to plain Latin
  (``Białoruś`` → ``bialorus``, ``baltkrievu`` whether written with or without marks);
- a phonetic skeleton then evens out the ways Russian, Belarusian and Ukrainian are
  written in Latin letters: ``zh kh ch sh`` become ``z h c s``, ``ц`` is ``c`` as in
  Łacinka, and ``j y`` become ``i``, so ``мужчины`` (muzhchiny), Łacinka ``mužčyny`` and
  ``muzhchyny`` all read ``muzcini``. English and Polish words change too, but terms are
  folded the same way, so they still meet their own words. Slugs (regions, publishers)
  are folded without the skeleton, so they stay readable.

Inflection is left to the watchlist: a trailing ``*`` on a term matches any ending.
All of it is one ``str.translate`` per text, a C loop.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "screen_line", "sentences", "slug", "tokens", "word_line"]

_WORD = re.compile(r"\w+")
_SLUG_JUNK = re.compile(r"[^\w]+")
# A sentence ends at . ! ? … or ; followed by space, or at a line break; not after a
# single letter and a dot (U.S. troops, J. Smith).
_SENTENCE_END = re.compile(r"(?<=[.!?…;])(?<!\b\w\.)\s+|\s*\n+\s*")

# One scheme for Russian, Ukrainian and Belarusian letters; soft and hard signs vanish.
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "e",
    "є": "e", "ж": "zh", "з": "z", "и": "i", "і": "i", "ї": "i", "й": "i", "к": "k",
    "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ў": "u", "ф": "f", "х": "kh", "ц": "c", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "'": "", "’": "", "ʼ": "",
}  # fmt: skip
_SPECIAL = {"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h"}


def _table() -> dict[int, str]:
    table = {ord(k): v for k, v in (_CYRILLIC | _SPECIAL).items()}
    # Latin letters with diacritics (Latin-1 Supplement and Extended-A/B): their base.
    for code in range(0x00C0, 0x0250):
        char = chr(code)
        if code in table or not char.isalpha():
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        if base and base != char and base.isascii():
            table[code] = base.lower()
    return table


_FOLD = _table()


# Not "ts": it would cut English plurals at a prefix's end (conscript* / conscripts).
_DIGRAPH = re.compile(r"zh|kh|ch|sh")
_DIGRAPHS = {"zh": "z", "kh": "h", "ch": "c", "sh": "s"}
_SKELETON = str.maketrans({"j": "i", "y": "i"})


# For folded text that is plain ASCII, the common case: the skeleton's letters and every
# character that is not a word character (``\w``) as a space, in one ``bytes.translate``.
_ASCII_LINE = (
    bytes(
        ord("i") if c in b"jy" else c if chr(c).isalnum() or c == ord("_") else ord(" ")
        for c in range(128)
    )
    + b" " * 128
)


def fold(text: str) -> str:
    """Case-, script- and diacritic-folded text, as a phonetic skeleton (module docstring)."""
    return _DIGRAPH.sub(_digraph, _plain(text)).translate(_SKELETON)


def word_line(text: str) -> str:
    """``" ".join(tokens(text))``, about five times faster.

    What a scan over a whole item needs: ASCII text (most items, once transliterated)
    goes through C loops only. The digraphs are replaced one after another, as the
    regex's single scan would: ``zh ch sh`` leave a letter that can only pair again with
    an ``h`` into the same digraph, already done; ``kh`` leaves an ``h`` that may pair
    with the letter before it, so it comes last.
    """
    plain = _plain(text)
    if not plain.isascii():
        return " ".join(_WORD.findall(fold(text)))
    line = plain.encode("ascii")
    line = line.replace(b"zh", b"z").replace(b"ch", b"c").replace(b"sh", b"s")
    line = line.replace(b"kh", b"h").translate(_ASCII_LINE)
    return b" ".join(line.split()).decode("ascii")


# ``word_line`` with every h and k dropped, for ASCII text in one ``bytes.translate``:
# upper case folded too, and h and k deleted before the table applies.
_ASCII_SCREEN = bytes(_ASCII_LINE[ord(chr(c).lower())] if c < 128 else 32 for c in range(256))
_NO_HK = str.maketrans("", "", "hk")
_SPACES = re.compile(b"  +")


def screen_line(text: str) -> str:
    """``word_line(text)`` without the letters h and k, and without the words that held
    nothing else: what the matcher's whole-item screen reads (``Matcher.may_match``).

    The skeleton's digraphs (``zh ch sh kh`` → ``z c s h``) only ever drop an h or a k,
    so with both letters gone they need no pass of their own: ASCII text is one
    ``bytes.translate`` and one regex pass closing up runs of spaces. A term read the same
    way is in an item's screen line whenever it is in the item's word line, which is all
    a screen needs.
    """
    if text.isascii():
        line = text.encode("ascii").translate(_ASCII_SCREEN, b"hkHK")
        # Only spaces are left between words: one regex pass closes up their runs,
        # cheaper than splitting into words and joining, or halving runs pass by pass.
        return _SPACES.sub(b" ", line).strip().decode("ascii")
    return " ".join(word_line(text).translate(_NO_HK).split())


def _plain(text: str) -> str:
    """Case-folded, transliterated, without diacritics: still readable, for slugs."""
    if text.isascii():
        return text.lower()  # NFKC leaves ASCII as it is, and casefold is lower there
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():
        text = text.translate(_FOLD)
        if not text.isascii():
            # Combining marks left over (text typed as letter + mark): drop them.
            text = "".join(
                c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
            )
    return text


def _digraph(match: re.Match[str]) -> str:
    return _DIGRAPHS[match.group()]


def tokens(text: str) -> list[str]:
    """Word tokens of folded ``text``: hyphens and punctuation split words."""
    return _WORD.findall(fold(text))


def sentences(text: str) -> list[str]:
    """``text`` cut into sentences, as written (not folded), without empty ones."""
    return [s for s in (part.strip() for part in _SENTENCE_END.split(text)) if s]


def slug(name: str | None) -> str:
    """``"Eastern Europe"`` → ``"eastern-europe"`` (regions, publishers, categories);
    a missing name is ``unknown``."""
    if not name:
        return "unknown"
    return _SLUG_JUNK.sub("-", _plain(name)).strip("-") or "unknown"
