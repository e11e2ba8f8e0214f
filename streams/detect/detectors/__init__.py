"""The detector library. A watchlist picks detectors per signal by ``kind``:

    detectors:
      - kind: significance
        threshold: 5
      - kind: flatline
        windows: 48
        realert: {cooldown: 1d}

``DetectorSpec`` validates one such entry into the detector it names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
    "DETECTOR_KINDS",
    "Cardinality",
    "Cusum",
    "Decision",
    "DetectorBase",
    "DetectorSpec",
    "Flatline",
    "NewTerm",
    "Observation",
    "Ratio",
    "Seasonal",
    "SeasonalQuantile",
    "Significance",
    "Threshold",
    "load_detectors",
    "parse_detector",
]

DetectorSpec = Annotated[
    Threshold
    | Ratio
    | Significance
    | Seasonal
    | SeasonalQuantile
    | Cusum
    | Flatline
    | NewTerm
    | Cardinality,
    Field(discriminator="kind"),
]

DETECTOR_KINDS: dict[str, type[DetectorBase]] = {
    cls.model_fields["kind"].default: cls
    for cls in (
        Threshold,
        Ratio,
        Significance,
        Seasonal,
        SeasonalQuantile,
        Cusum,
        Flatline,
        NewTerm,
        Cardinality,
    )
}

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
