"""Replayable files: JSONL passed on byte for byte, markdown articles, CSV with a mapping."""

from pathlib import Path

import orjson
import pytest

from streams.cli import _columns
from streams.sources.files import iter_records, list_inputs


def test_a_folder_lists_every_kind_in_a_stable_order(tmp_path: Path) -> None:
    for name in ("b.jsonl", "a.csv", "c.md", "notes.txt", "sub/d.jsonl.gz"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert [p.relative_to(tmp_path).as_posix() for p in list_inputs(tmp_path)] == [
        "a.csv",
        "b.jsonl",
        "c.md",
        "sub/d.jsonl.gz",
    ]


def test_csv_rows_become_items_by_column_name_or_mapping(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(
        "\ufeffguid,headline,date,sources,region,extra\n"
        "g1,Border queue,2026-06-01T10:00:00Z,OSINT; wire,Baltics,x\n"
        "g2,No date,,,,\n",
        encoding="utf-8",
    )
    columns = {"id": "guid", "title": "headline", "published_at": "date"}
    first, second = iter_records(path, columns)
    assert first.key == b"g1" and first.where.endswith("items.csv:2")
    assert orjson.loads(first.value or b"") == {
        "id": "g1",
        "title": "Border queue",
        "published_at": "2026-06-01T10:00:00Z",
        "sources": ["OSINT", "wire"],
        "region": "Baltics",
    }
    # Sent as it is: ingest dead-letters it for the missing date, with the reason.
    assert orjson.loads(second.value or b"") == {"id": "g2", "title": "No date"}


def test_a_mapping_to_a_missing_column_makes_the_file_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("id,title\n1,x\n")
    [record] = iter_records(path, {"published_at": "date"})
    assert record.value is None and "no column(s) ['date']" in (record.error or "")


@pytest.mark.parametrize(
    ("text", "mapping"),
    [
        ("", {}),
        ("title=headline", {"title": "headline"}),
        (" id = guid , body=text ", {"id": "guid", "body": "text"}),
    ],
)
def test_columns_option(text: str, mapping: dict[str, str]) -> None:
    assert _columns(text) == mapping


def test_columns_option_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="field=column"):
        _columns("title")


def test_csv_rows_without_an_id_get_a_stable_one_from_chosen_columns_or_the_row(
    tmp_path: Path,
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "headline,date,url\n"
        "One,2026-06-01T10:00:00Z,https://a.example/1\n"
        "Two,2026-06-01T11:00:00Z,https://a.example/2\n"
        "One again,2026-06-01T12:00:00Z,https://a.example/1\n"
    )
    columns = {"title": "headline", "published_at": "date"}

    def ids(id_from: list[str]) -> list[str]:
        return [orjson.loads(r.value or b"")["id"] for r in iter_records(path, columns, id_from)]

    by_url = ids(["url"])
    assert by_url[0] == by_url[2] != by_url[1] and by_url[0].startswith("csv-")
    assert ids(["url"]) == by_url  # stable: the same rows, the same ids
    by_row = ids(["row"])
    assert len(set(by_row)) == 3
    records = list(iter_records(path, columns, ["url"]))
    assert records[0].key == by_url[0].encode()
    [refused] = list(iter_records(path, columns, ["link"]))
    assert refused.value is None and "no column(s) ['link']" in (refused.error or "")


def test_csv_rows_and_files_that_map_to_nothing_are_refused_with_the_reason(
    tmp_path: Path,
) -> None:
    unmapped = tmp_path / "unmapped.csv"
    unmapped.write_text("headline,date\nOne,2026-06-01\n")
    [refused] = list(iter_records(unmapped))
    assert refused.value is None and "no column names an item field" in (refused.error or "")
    assert "--columns" in (refused.error or "")
    blank = tmp_path / "blank.csv"
    blank.write_text("title,published_at\nOne,2026-06-01T10:00:00Z\n,\n")
    good, empty = list(iter_records(blank))
    assert good.value is not None
    assert empty.value is None and empty.error == f"{blank}:3: no mapped column has a value"
