"""The parameter reference of every detector, rendered from the models themselves.

``docs/detection.md`` embeds this text and a test keeps the two equal, so the documented
parameters and defaults are the ones the code validates.
"""

from __future__ import annotations

import inspect

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from streams.detect.detectors import BUILT_IN, DETECTOR_KINDS, DetectorBase, kind_of
from streams.detect.realert import Realert

__all__ = ["reference_markdown"]

_SHARED = {"name", "kind", "realert", "scales"}


def reference_markdown(*, plugins: bool = True) -> str:
    """Every registered detector's parameters; without ``plugins``, the built-in ones only
    (what ``docs/detection.md`` documents, whatever is installed beside Watchfloor)."""
    kinds: dict[str, type[DetectorBase]] = (
        DETECTOR_KINDS if plugins else {kind_of(cls): cls for cls in BUILT_IN}
    )
    parts = []
    for kind, cls in kinds.items():
        module_doc = inspect.getdoc(inspect.getmodule(cls)) or ""
        parts.append(f"### `{kind}`\n\n{module_doc}\n\n")
        rows = [(n, f) for n, f in cls.model_fields.items() if n not in _SHARED]
        parts.append(_table(rows))
    parts.append(
        "### Shared by every detector\n\n"
        "`name` (default: the kind) tells two detectors of one kind apart on a signal; it "
        "goes into alert ids. `scales` names the signal's time scales the detector judges "
        "(e.g. `[1h]`); unset, a detector with a baseline judges every scale, each against "
        "that scale's own baseline, and one whose bar is a fixed count (`threshold`, "
        "`flatline`, `new_term`, `cardinality`) judges only the shortest: ten reports an "
        "hour and ten a day are different bars. `realert` holds the re-alert rule:\n\n"
    )
    parts.append(_table(list(Realert.model_fields.items())))
    return "".join(parts)


def _table(rows: list[tuple[str, FieldInfo]]) -> str:
    lines = ["| parameter | default | meaning |", "|---|---|---|"]
    for name, info in rows:
        lines.append(f"| `{name}` | {_default(info)} | {info.description or ''} |")
    return "\n".join(lines) + "\n\n"


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.default if info.default is not PydanticUndefined else None
    return "none" if value is None else f"`{value}`"
