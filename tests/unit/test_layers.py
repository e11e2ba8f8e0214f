"""The package's layers: a pure core, and no circles between the parts of the pipeline."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "streams"
CORE = ("sources", "signals", "detect")
PARTS = (*CORE, "pipeline", "backtest", "cli")
KAFKA = ("faust", "aiokafka", "mode")


def _imports() -> dict[str, set[str]]:
    """Per module of the package (``streams.x.y``), every module it imports, anywhere."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts).removesuffix(".__init__")
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
        found[module] = names
    return found


def _part(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "streams" and parts[1] in PARTS else None


def test_the_core_imports_neither_faust_nor_aiokafka() -> None:
    offending = sorted(
        f"{module} imports {name}"
        for module, names in _imports().items()
        if _part(module) in CORE
        for name in names
        if name.split(".")[0] in KAFKA
    )
    assert not offending, offending


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every circle a depth-first walk meets: a part reached again from its descendants."""
    circles: list[list[str]] = []

    def walk(part: str, path: list[str]) -> None:
        for nxt in sorted(edges.get(part, ())):
            if nxt in path:
                circles.append([*path[path.index(nxt) :], nxt])
            else:
                walk(nxt, [*path, nxt])

    for part in sorted(edges):
        walk(part, [part])
    return circles


def test_the_parts_of_the_package_import_each_other_without_a_circle() -> None:
    edges: dict[str, set[str]] = {part: set() for part in PARTS}
    for module, names in _imports().items():
        here = _part(module)
        for name in names:
            there = _part(name)
            if here and there and there != here:
                edges[here].add(there)
    assert edges["pipeline"] >= set(CORE)  # what the check reads is there
    assert "pipeline" in edges["cli"] and "cli" not in {p for e in edges.values() for p in e}
    assert not _circles(edges), _circles(edges)


def test_the_check_sees_a_circle() -> None:
    assert _circles({"signals": {"detect"}, "detect": {"sources"}, "sources": set()}) == []
    circles = _circles({"signals": {"detect"}, "detect": {"signals"}})
    assert ["detect", "signals", "detect"] in circles
