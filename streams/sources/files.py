"""Read replayable input files: JSONL of raw items, markdown articles and CSV, one file or
a folder.

Records come out as ``(key, value)`` byte pairs ready for the raw topic. JSONL lines are
passed on byte for byte, even when malformed: deciding what is valid is ingest's job, and
a bad line must reach the dead-letter topic with its reason rather than vanish here.

A CSV row becomes an item whose fields are taken from columns: by default a column named
like a raw-item field (``id``, ``title``, ``body``, ``published_at``, ``region``, ...)
fills that field; ``columns`` maps fields to other column names
(``{"title": "headline", "published_at": "date"}``). Empty cells are left out, and
``sources`` is split on ``;``. A row without an id can be given a stable one, derived
from chosen columns (``id_from=["url"]``) or from the whole row (``["row"]``): the same
row always gets the same id, so replaying a file twice counts its rows once. Rows are sent
whatever else they hold, like JSONL lines; a file none of whose columns names an item
field, and a row with nothing in its mapped columns, are refused with the reason.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from streams.sources.decode import MAX_RECORD_BYTES
from streams.sources.markdown import ArticleFormatError, parse_article_file

__all__ = ["FileRecord", "iter_records", "list_inputs"]

_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".md", ".csv")
_FIELDS = (
    "id", "title", "body", "published_at", "deck", "region", "category", "importance",
    "sources", "url", "publisher", "language",
)  # fmt: skip


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


def iter_records(
    path: Path,
    columns: Mapping[str, str] | None = None,
    id_from: Sequence[str] | None = None,
) -> Iterator[FileRecord]:
    for file in list_inputs(path):
        if file.name.endswith(".md"):
            yield _article(file)
        elif file.name.endswith(".csv"):
            yield from _csv(file, columns or {}, id_from or ())
        else:
            yield from _jsonl(file)


def _csv(file: Path, columns: Mapping[str, str], id_from: Sequence[str]) -> Iterator[FileRecord]:
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        yield FileRecord(None, None, str(file), error=f"{file}: cannot read: {exc}")
        return
    unknown = sorted(set(columns) - set(_FIELDS))
    if unknown:
        yield FileRecord(None, None, str(file), error=f"{file}: no item field(s) {unknown}")
        return
    # A body may be up to 1 MB; the csv module refuses fields over 128 KiB by default.
    csv.field_size_limit(max(csv.field_size_limit(), 2 * MAX_RECORD_BYTES))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        yield FileRecord(None, None, str(file), error=f"{file}: not CSV: {exc}")
        return
    wanted = {f: columns.get(f, f) for f in _FIELDS}
    missing = [c for f, c in columns.items() if c not in header]
    missing += [c for c in id_from if c != "row" and c not in header]
    if missing:
        yield FileRecord(None, None, str(file), error=f"{file}: no column(s) {missing}")
        return
    if not set(wanted.values()) & set(header):
        yield FileRecord(
            None,
            None,
            str(file),
            error=f"{file}: no column names an item field ({', '.join(header)}); "
            "map them with --columns field=column,...",
        )
        return
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield FileRecord(
                None, None, f"{file}:{reader.line_num}", error=f"{file}:{reader.line_num}: {exc}"
            )
            return
        lineno = reader.line_num  # the row's last physical line: quoted cells may span lines
        item: dict[str, object] = {}
        for field, column in wanted.items():
            value = (row.get(column) or "").strip()
            if value:
                item[field] = [v.strip() for v in value.split(";")] if field == "sources" else value
        where = f"{file}:{lineno}"
        if not item:
            yield FileRecord(None, None, where, error=f"{where}: no mapped column has a value")
            continue
        if "id" not in item and id_from:
            item = {"id": _derived_id(row, header, id_from), **item}
        value_bytes = orjson.dumps(item)
        key = str(item["id"]).encode() if item.get("id") else None
        yield FileRecord(key, value_bytes, where)


def _derived_id(
    row: Mapping[str, str | None], header: Sequence[str], id_from: Sequence[str]
) -> str:
    """A stable id from the chosen columns' values, or from every cell (``row``)."""
    names = list(header) if list(id_from) == ["row"] else list(id_from)
    text = "\x1f".join(f"{name}={(row.get(name) or '').strip()}" for name in names)
    return "csv-" + hashlib.sha256(text.encode()).hexdigest()[:24]


def _jsonl(file: Path) -> Iterator[FileRecord]:
    opener = gzip.open if file.name.endswith(".gz") else open
    with opener(file, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip(b"\r\n")
            if lineno == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark is not JSON
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
