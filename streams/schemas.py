"""Write (or check) the JSON Schema files in ``schemas/`` from the pydantic models."""

from __future__ import annotations

from pathlib import Path

import orjson

from streams.models import model_schemas

__all__ = ["export_schemas", "render_schema", "stale_schemas"]


def render_schema(schema: dict[str, object]) -> bytes:
    """A schema as the files in schemas/ hold it: indented, keys sorted, one newline."""
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def export_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in model_schemas().items():
        path = folder / name
        path.write_bytes(render_schema(schema))
        written.append(path)
    return written


def stale_schemas(folder: Path) -> list[str]:
    """Names of schema files that are missing or differ from what the models generate."""
    return [
        name
        for name, schema in model_schemas().items()
        if not (folder / name).is_file() or (folder / name).read_bytes() != render_schema(schema)
    ]
