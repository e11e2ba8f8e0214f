from pathlib import Path

from streams.schemas import stale_schemas


def test_committed_schemas_match_the_models() -> None:
    folder = Path(__file__).parents[2] / "schemas"
    assert stale_schemas(folder) == [], "run `watchfloor schemas export`"


def test_a_changed_schema_is_reported_stale(tmp_path: Path) -> None:
    assert set(stale_schemas(tmp_path)) == {
        "raw-item.schema.json",
        "signal-record.schema.json",
        "alert.schema.json",
        "dead-letter.schema.json",
    }
