"""The parameters that define a synthetic data set, and their checks.

``yonca synth`` and the DVC stage (``synthetic:`` in params.yaml) both pass what
a person wrote through here, so a bad value is refused before anything is
generated, with a :class:`ParameterError` naming the parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synthetic import lookup, regions
from synthetic.errors import ParameterError

DEFAULT_CHUNK_SIZE = 50_000
DEFAULT_SEASON = 2025
REQUIRED = ("seed", "farms", "out_dir")
OPTIONAL = ("chunk_size", "season", "workers", "region_weights")


@dataclass(frozen=True)
class SynthesisParams:
    """Everything ``synthesize`` needs, already checked."""

    seed: int
    farms: int
    out_dir: Path
    chunk_size: int = DEFAULT_CHUNK_SIZE
    season: int = DEFAULT_SEASON
    workers: int = 1
    region_weights: dict[str, float] | None = None


def from_section(values: Mapping[str, Any]) -> SynthesisParams:
    """Check the ``synthetic:`` section of params.yaml and return its values."""
    unknown = sorted(set(values) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise ParameterError(
            unknown[0],
            f"{unknown[0]} is not a synthetic parameter; the known ones are "
            f"{', '.join(REQUIRED + OPTIONAL)}. Fix the spelling or remove it.",
        )
    for name in REQUIRED:
        if name not in values:
            raise ParameterError(name, f"{name} is missing; add it.")

    params = SynthesisParams(
        seed=whole_number("seed", values["seed"]),
        farms=whole_number("farms", values["farms"]),
        out_dir=Path(str(values["out_dir"])),
        chunk_size=whole_number(
            "chunk_size", values.get("chunk_size", DEFAULT_CHUNK_SIZE)
        ),
        season=whole_number("season", values.get("season", DEFAULT_SEASON)),
        workers=whole_number("workers", values.get("workers", 1)),
        region_weights=values.get("region_weights") or None,
    )
    check_arguments(
        params.seed,
        params.farms,
        params.chunk_size,
        params.season,
        params.workers,
        params.region_weights,
    )
    return params


def whole_number(name: str, value: Any) -> int:
    """``value`` if it is an integer; otherwise a :class:`ParameterError`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParameterError(
            name,
            f"{name} must be a whole number, got {value!r}; write digits only, "
            "without quotes or a decimal point.",
        )
    return int(value)


def check_arguments(
    seed: Any,
    farms: Any,
    chunk_size: Any,
    season: Any,
    workers: Any = 1,
    region_weights: Any = None,
) -> None:
    """Raise :class:`ParameterError` naming the first unusable argument."""
    values = {
        "seed": seed,
        "farms": farms,
        "chunk_size": chunk_size,
        "season": season,
        "workers": workers,
    }
    numbers = {name: whole_number(name, value) for name, value in values.items()}
    _at_least(numbers, "seed", 0, "pick a seed of 0 or more")
    _at_least(numbers, "farms", 1, "ask for one farm or more")
    _at_least(
        numbers, "chunk_size", 1, f"the default is {DEFAULT_CHUNK_SIZE} farms a chunk"
    )
    _at_least(numbers, "workers", 1, "use 1 to generate in this process")
    if not 1971 <= numbers["season"] <= 2200:
        raise ParameterError(
            "season",
            f"season {season} is outside 1971-2200; use a calendar year.",
        )
    if region_weights is not None:
        check_region_weights(region_weights)


def _at_least(numbers: Mapping[str, int], name: str, low: int, advice: str) -> None:
    if numbers[name] < low:
        raise ParameterError(
            name, f"{name} must be at least {low}, got {numbers[name]}; {advice}."
        )


def check_region_weights(weights: Any) -> dict[str, float]:
    """Return the weights if every key is a region and the weights can be used."""
    name = "region_weights"
    if not isinstance(weights, Mapping):
        raise ParameterError(
            name, f"{name} must map region names to weights, got {weights!r}."
        )
    unknown = sorted(map(str, set(weights) - set(regions.REGION_BY_NAME)))
    if unknown:
        raise ParameterError(
            name,
            f"{name} names unknown region(s) {', '.join(map(repr, unknown))}; "
            f"the regions are {', '.join(regions.REGION_NAMES)}.",
        )
    for region, weight in weights.items():
        _check_weight(region, weight)
    if not any(weights.values()):
        raise ParameterError(
            name, f"{name} gives every region a weight of 0; give one region more."
        )
    return {str(region): float(weight) for region, weight in weights.items()}


def _check_weight(region: str, weight: Any) -> None:
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise ParameterError(
            "region_weights",
            f"region_weights: the weight of {region} must be a number, got {weight!r}.",
        )
    if weight < 0:
        raise ParameterError(
            "region_weights",
            f"region_weights: the weight of {region} is {weight}; use 0 or more.",
        )


def district_cumulative(region_weights: Mapping[str, float] | None) -> np.ndarray:
    """Cumulative district probabilities: the defaults, or the named regions only."""
    if not region_weights:
        return lookup.DISTRICT_CUM
    weights = np.array(
        [
            region_weights.get(regions.DISTRICT_REGION[name], 0.0)
            / len(regions.REGION_BY_NAME[regions.DISTRICT_REGION[name]].districts)
            for name in regions.DISTRICT_NAMES
        ]
    )
    cum = np.cumsum(weights / weights.sum())
    # Districts after the last weighted one must never be drawn, rounding or not.
    cum[np.flatnonzero(weights)[-1] :] = 1.0
    return cum
