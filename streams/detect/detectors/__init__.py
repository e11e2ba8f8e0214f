"""The detector library. A watchlist picks detectors per signal by ``kind``:

    detectors:
      - kind: significance
        threshold: 5
      - kind: flatline
        windows: 48
        realert: {cooldown: 1d}

``DetectorSpec`` validates one such entry into the detector it names.

One registry, ``DETECTOR_KINDS``, holds every detector by its kind: the built-in ones
(``BUILT_IN``: every detector a module of this package defines, so a new module is all a
new detector takes) and those other installed packages declare under the
``watchfloor.detectors`` entry point group, e.g. in their ``pyproject.toml``::

    [project.entry-points."watchfloor.detectors"]
    burstiness = "my_package.burstiness:Burstiness"

The watchlist's validation, ``watchfloor detectors`` and the benches all read it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Union

import yaml
from pydantic import Field, TypeAdapter, ValidationError

from streams.detect.detectors.base import Decision, DetectorBase, Observation
from streams.detect.detectors.cardinality import Cardinality
from streams.detect.detectors.cusum import Cusum
from streams.detect.detectors.flatline import Flatline
from streams.detect.detectors.new_term import NewTerm
from streams.detect.detectors.ratio import Ratio
from streams.detect.detectors.seasonal import Seasonal
from streams.detect.detectors.seasonal_quantile import SeasonalQuantile
from streams.detect.detectors.significance import Significance
from streams.detect.detectors.threshold import Threshold

__all__ = [
    "BUILT_IN",
    "DETECTOR_KINDS",
    "PLUGIN_GROUP",
    "Cardinality",
    "Cusum",
    "Decision",
    "DetectorBase",
    "DetectorPluginError",
    "DetectorSpec",
    "Flatline",
    "NewTerm",
    "Observation",
    "Ratio",
    "Seasonal",
    "SeasonalQuantile",
    "Significance",
    "Threshold",
    "detector_registry",
    "kind_of",
    "load_detectors",
    "parse_detector",
]


def _library() -> tuple[type[DetectorBase], ...]:
    """Every detector a module of this package defines, by kind: a new detector's module
    is all it takes to add one."""
    found = []
    for module in pkgutil.iter_modules(__path__):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        for value in vars(loaded).values():
            if (
                isinstance(value, type)
                and issubclass(value, DetectorBase)
                and value.__module__ == loaded.__name__
                # a detector a watchlist can name, not a base of some
                and isinstance(value.model_fields["kind"].default, str)
            ):
                found.append(value)
    return tuple(sorted(found, key=kind_of))


PLUGIN_GROUP = "watchfloor.detectors"


class DetectorPluginError(Exception):
    """An installed detector plugin that cannot be used, and why."""


def kind_of(cls: type[DetectorBase]) -> str:
    """The ``kind`` a watchlist names ``cls`` by: its ``kind: Literal[...]`` default."""
    field = cls.model_fields.get("kind")
    kind = field.default if field is not None else None
    if not isinstance(kind, str) or not kind:
        raise DetectorPluginError(
            f"{cls.__module__}.{cls.__qualname__} needs a field "
            "kind: Literal['its-kind'] = 'its-kind'"
        )
    return kind


BUILT_IN = _library()
"""The detectors Watchfloor ships, by kind."""


def detector_registry(
    plugins: Iterable[EntryPoint] | None = None,
) -> dict[str, type[DetectorBase]]:
    """Every detector by its kind: ``BUILT_IN``, then the ``plugins`` (by default the
    installed packages' ``watchfloor.detectors`` entry points), none taking a kind twice."""
    found = {kind_of(cls): cls for cls in BUILT_IN}
    for entry in entry_points(group=PLUGIN_GROUP) if plugins is None else plugins:
        try:
            cls = entry.load()
        except Exception as exc:
            raise DetectorPluginError(f"detector plugin {entry.value}: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, DetectorBase)):
            raise DetectorPluginError(
                f"detector plugin {entry.value} is not a subclass of DetectorBase"
            )
        kind = kind_of(cls)
        if kind in found:
            taken = found[kind]
            raise DetectorPluginError(
                f"detector plugin {entry.value} takes the kind {kind!r} of "
                f"{taken.__module__}.{taken.__qualname__}"
            )
        found[kind] = cls
    return found


DETECTOR_KINDS: dict[str, type[DetectorBase]] = detector_registry()

if TYPE_CHECKING:
    DetectorSpec = DetectorBase
else:
    # One union of every registered detector, told apart by ``kind``.
    DetectorSpec = Annotated[
        Union[tuple(DETECTOR_KINDS.values())],  # noqa: UP007  (a union built at run time)
        Field(discriminator="kind"),
    ]

_ADAPTER: TypeAdapter[DetectorBase] = TypeAdapter(DetectorSpec)


def parse_detector(data: object) -> DetectorBase:
    """One detector from its watchlist entry (a mapping with ``kind``)."""
    return _ADAPTER.validate_python(data)


_LIST_ADAPTER: TypeAdapter[list[DetectorSpec]] = TypeAdapter(list[DetectorSpec])


def load_detectors(path: Path) -> list[DetectorBase]:
    """Detectors from a YAML file holding ``detectors: [...]``, as in a watchlist."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read detectors: {exc}") from None
    if not isinstance(data, dict) or "detectors" not in data:
        raise ValueError(f"{path}: expected a mapping with a 'detectors' list")
    try:
        return list(_LIST_ADAPTER.validate_python(data["detectors"]))
    except ValidationError as exc:
        problems = "; ".join(
            f"detectors{''.join(f'[{p}]' if isinstance(p, int) else f'.{p}' for p in e['loc'])}: "
            f"{e['msg']}"
            for e in exc.errors()
        )
        raise ValueError(f"{path}: {problems}") from None
