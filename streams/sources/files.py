"""Read replayable input files: JSONL of raw items and markdown articles, one file or a folder.

Records come out as ``(key, value)`` byte pairs ready for the raw topic. JSONL lines are
passed on byte for byte, even when malformed: deciding what is valid is ingest's job, and
a bad line must reach the dead-letter topic with its reason rather than vanish here.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from streams.sources.markdown import ArticleFormatError, parse_article_file

__all__ = ["FileRecord", "iter_records", "list_inputs"]

_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".md")


@dataclass(frozen=True, slots=True)
class FileRecord:
    key: bytes | None
    value: bytes | None
    """``None`` when the file could not be read as a record at all (see ``error``)."""
    where: str
    error: str | None = None


def list_inputs(path: Path) -> list[Path]:
    """The input files under ``path`` (itself if a file), in a stable order."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or folder")
    return sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(_SUFFIXES))


def iter_records(path: Path) -> Iterator[FileRecord]:
    for file in list_inputs(path):
        if file.name.endswith(".md"):
            yield _article(file)
        else:
            yield from _jsonl(file)


def _jsonl(file: Path) -> Iterator[FileRecord]:
    opener = gzip.open if file.name.endswith(".gz") else open
    with opener(file, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip(b"\r\n")
            if line.strip():
                yield FileRecord(_key_of(line), line, f"{file}:{lineno}")


def _article(file: Path) -> FileRecord:
    try:
        item = parse_article_file(file)
    except (ArticleFormatError, UnicodeDecodeError) as exc:
        return FileRecord(None, None, str(file), error=str(exc))
    return FileRecord(str(item["id"]).encode(), orjson.dumps(item), str(file))


def _key_of(line: bytes) -> bytes | None:
    """The item id as the record key, so redeliveries of an item share a partition."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    ident = obj.get("id") if isinstance(obj, dict) else None
    return str(ident).encode() if isinstance(ident, str | int) and ident != "" else None
