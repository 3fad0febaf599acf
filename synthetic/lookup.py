"""The facts of :mod:`synthetic.regions` as numpy arrays, indexed by vocabulary.

The generator draws codes (positions in ``CROPS``, ``SOILS``, …) in bulk; these
arrays turn a region or crop code into its weights, box or calendar without a
Python loop per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from synthetic import regions


def cumulative(weights: Mapping[str, float], vocabulary: Iterable[str]) -> np.ndarray:
    """Cumulative probabilities over ``vocabulary``, ending at exactly 1."""
    values = np.array([weights.get(name, 0.0) for name in vocabulary], dtype=float)
    cum = np.cumsum(values / values.sum())
    cum[-1] = 1.0
    return cum


def sample_codes(
    rng: np.random.Generator, cum_rows: np.ndarray, row_of: np.ndarray
) -> np.ndarray:
    """Draw one code per element, from the cumulative row ``cum_rows[row_of]``."""
    draws = rng.random(len(row_of))
    return (draws[:, None] >= cum_rows[row_of]).sum(axis=1).astype(np.int16)


def _index(vocabulary: tuple[str, ...]) -> dict[str, int]:
    return {name: code for code, name in enumerate(vocabulary)}


CROP_CODE = _index(regions.CROPS)
PEST_CODE = _index(regions.PESTS)
REGION_CODE = _index(regions.REGION_NAMES)

DISTRICT_REGION = np.array(
    [REGION_CODE[regions.DISTRICT_REGION[name]] for name in regions.DISTRICT_NAMES]
)
DISTRICT_LAT = np.array([d.latitude for d in regions.DISTRICTS])
DISTRICT_LON = np.array([d.longitude for d in regions.DISTRICTS])
DISTRICT_ELEVATION = np.array([d.elevation_m for d in regions.DISTRICTS], float)
DISTRICT_CUM = cumulative(
    {
        d.name: r.farm_share / len(r.districts)
        for r in regions.REGIONS
        for d in r.districts
    },
    regions.DISTRICT_NAMES,
)

REGION_BOX = np.array(
    [
        [r.box.lat_min, r.box.lat_max, r.box.lon_min, r.box.lon_max]
        for r in regions.REGIONS
    ]
)
REGION_CROP_CUM = np.stack(
    [cumulative(r.crops, regions.CROPS) for r in regions.REGIONS]
)
REGION_SOIL_CUM = np.stack(
    [cumulative(r.soils, regions.SOILS) for r in regions.REGIONS]
)
REGION_IRRIGATION_CUM = np.stack(
    [cumulative(r.irrigation, regions.IRRIGATION) for r in regions.REGIONS]
)

_CALENDARS = [regions.CROP_CALENDARS[crop] for crop in regions.CROPS]
PERENNIAL = np.array([c.perennial for c in _CALENDARS])
SOW_MONTH_DAY = np.array([c.sowing.start for c in _CALENDARS])
SOW_YEAR_OFFSET = np.array([c.sowing.year_offset for c in _CALENDARS])
HARVEST_MONTH_DAY = np.array([c.harvest.start for c in _CALENDARS])


def _window_days(window: regions.Window) -> int:
    # Measured in a common year; no window crosses the end of February.
    start = np.datetime64(f"2001-{window.start[0]:02d}-{window.start[1]:02d}")
    end = np.datetime64(f"2001-{window.end[0]:02d}-{window.end[1]:02d}")
    return int((end - start).astype(int)) + 1


SOW_DAYS = np.array([_window_days(c.sowing) for c in _CALENDARS])
HARVEST_DAYS = np.array([_window_days(c.harvest) for c in _CALENDARS])

PEST_OPTIONS = np.array(
    [
        [PEST_CODE[p] for p in (regions.PESTS_BY_CROP[crop] * 2)[:2]]
        for crop in regions.CROPS
    ]
)
PEST_OPTION_COUNT = np.array([len(regions.PESTS_BY_CROP[c]) for c in regions.CROPS])


def window_start(years: np.ndarray, month_day: np.ndarray) -> np.ndarray:
    """First day of a window in each of ``years``, as ``datetime64[D]``."""
    months = (years - 1970) * 12 + (month_day[:, 0] - 1)
    firsts = months.astype("datetime64[M]").astype("datetime64[D]")
    return firsts + (month_day[:, 1] - 1).astype("timedelta64[D]")
