"""Write or check ``schemas/compound-alert.schema.json`` from the model.

``python -m watchfloor_correlation.schema [--check] [DIR]``
"""

from __future__ import annotations

import sys
from pathlib import Path

from streams.schemas import render_schema
from watchfloor_correlation.models import CompoundAlert

NAME = "compound-alert.schema.json"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    folder = Path(next((a for a in argv if not a.startswith("--")), "schemas"))
    rendered = render_schema(CompoundAlert.model_json_schema())
    path = folder / NAME
    if check:
        if not path.is_file() or path.read_bytes() != rendered:
            print(f"{path} is stale: run python -m watchfloor_correlation.schema", file=sys.stderr)
            return 1
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    path.write_bytes(rendered)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
