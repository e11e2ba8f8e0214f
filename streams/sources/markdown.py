"""Parse analytic articles in the markdown format of the sample reports into raw items.

The format: an H1 title, an italic date/desk line, ``**Field**: value`` metadata lines
(several may share a line, separated by ``|``), a ``---`` rule, an optional
``**Deck**:`` paragraph and the body paragraphs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

__all__ = ["ArticleFormatError", "parse_article", "parse_article_file"]

_FIELD = re.compile(r"\*\*(?P<name>[A-Za-z ]+)\*\*:\s*(?P<value>[^|]*)")
_DESK = re.compile(r"^\*[^*]+—\s*(?P<desk>[^*]+)\*$")
_IMPORTANCE = re.compile(r"^\s*(\d+)\s*(?:/\s*10)?\s*$")
# "2026-06-24T10:04:41.365Z (3h ago)": the relative part is display-only.
_PUBLISHED = re.compile(r"^\s*(\S+)")


@dataclass(frozen=True)
class ArticleFormatError(ValueError):
    """The text is not an article in the expected format; ``where`` names the file."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def parse_article(text: str, where: str = "<article>") -> dict[str, Any]:
    """Return the raw-item fields of one article (validate with ``RawItem`` afterwards)."""
    lines = text.splitlines()
    title = next((ln[2:].strip() for ln in lines if ln.startswith("# ")), None)
    if not title:
        raise ArticleFormatError(where, "no '# Title' line")
    try:
        rule = next(i for i, ln in enumerate(lines) if ln.strip() == "---")
    except StopIteration:
        raise ArticleFormatError(where, "no '---' line between metadata and text") from None

    meta: dict[str, str] = {}
    desk: str | None = None
    for line in lines[:rule]:
        if m := _DESK.match(line.strip()):
            desk = m["desk"].strip()
        for m in _FIELD.finditer(line):
            meta[m["name"].strip().lower()] = m["value"].strip()

    if "published" not in meta:
        raise ArticleFormatError(where, "no **Published** field")
    published = _PUBLISHED.match(meta["published"])
    item: dict[str, Any] = {
        "title": title,
        "published_at": published[1] if published else meta["published"],
    }
    permalink = meta.get("permalink")
    item["id"] = permalink or Path(where).stem
    if permalink:
        item["url"] = permalink
    for name in ("category", "region"):
        if meta.get(name):
            item[name] = meta[name]
    if "importance" in meta:
        m = _IMPORTANCE.match(meta["importance"])
        if not m:
            raise ArticleFormatError(where, f"**Importance** is not N/10: {meta['importance']!r}")
        item["importance"] = int(m[1])
    if meta.get("sources"):
        item["sources"] = [s.strip() for s in meta["sources"].split(",") if s.strip()]
    publisher = desk or _host(meta.get("source") or permalink)
    if publisher:
        item["publisher"] = publisher

    deck, body = _split_deck(lines[rule + 1 :])
    if deck:
        item["deck"] = deck
    item["body"] = body
    item["language"] = "en"
    return item


def parse_article_file(path: Path) -> dict[str, Any]:
    return parse_article(path.read_text(encoding="utf-8"), where=str(path))


def _split_deck(lines: list[str]) -> tuple[str | None, str]:
    # Markdown joins wrapped lines of a paragraph; blank lines separate paragraphs.
    paragraphs = [" ".join(p.split()) for p in "\n".join(lines).split("\n\n") if p.strip()]
    deck = None
    if paragraphs and paragraphs[0].startswith("**Deck**:"):
        deck = paragraphs.pop(0).removeprefix("**Deck**:").strip()
    return deck, "\n\n".join(paragraphs)


def _host(url: str | None) -> str | None:
    return urlparse(url).hostname if url else None
