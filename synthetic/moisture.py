"""Weekly soil-moisture readings per field, from its district's weather.

A daily water balance of the top 10 cm is run once per season for every
combination of district, soil type and irrigation method (a few thousand
curves): rain wets the soil, warmth dries it, water above field capacity
drains, and irrigated soils are watered back up whenever they dry past their
method's trigger during the canal season. Each field then reads its curve once
a week over its own season, shifted by a fixed offset of its own and a little
sensor noise. The per-field work is array indexing only, so a million farms'
readings cost seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa

from synthetic import lookup, regions
from synthetic.climate import district_weather

READING_INTERVAL_DAYS = 7
# Perennials are read from the start of spring of the harvest year.
PERENNIAL_FIRST_READING = (3, 1)
# Share of rain that soaks into the top 10 cm (the rest runs off or is
# intercepted); 1 mm of water there is one volumetric percentage point.
INFILTRATION = 0.8
DRAINAGE_PER_DAY = 0.5
# Sunlight dries the surface below the wilting point, down to this share of it.
AIR_DRY_SHARE = 0.6
FIELD_OFFSET_SD_PCT = 1.5
SENSOR_NOISE_SD_PCT = 0.8
MAX_MOISTURE_PCT = 60.0
# Where every curve starts on 1 October, as a share of the usable water: a
# guess at the soil after summer that the autumn rains soon override.
STARTING_SHARE = 0.6


@dataclass(frozen=True)
class FieldSeasons:
    """What the readings need to know about a chunk's fields."""

    ids: pa.Array
    district: np.ndarray
    soil: np.ndarray
    irrigation: np.ndarray
    crop: np.ndarray
    sowing: np.ndarray
    harvest: np.ndarray


def _soil_constants() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    table = np.array([regions.SOIL_WATER[soil] for soil in regions.SOILS], float)
    return table[:, 0], table[:, 1], table[:, 2]


def _irrigation_constants() -> tuple[np.ndarray, np.ndarray]:
    table = np.array(
        [regions.IRRIGATION_RULES[method] for method in regions.IRRIGATION], float
    )
    return table[:, 0], table[:, 1]


@lru_cache(maxsize=4)
def moisture_curves(seed: int, season: int) -> np.ndarray:
    """Daily moisture (%), shape (district, soil, irrigation, day); read-only."""
    weather = district_weather(seed, season)
    wilting, capacity, saturation = (a[None, :, None] for a in _soil_constants())
    trigger, target = (a[None, None, :] for a in _irrigation_constants())
    available = capacity - wilting
    months = weather.days.astype("datetime64[M]").astype(int) % 12 + 1
    first, last = regions.IRRIGATION_MONTHS
    canal_open = (months >= first) & (months <= last)

    shape = (len(regions.DISTRICT_NAMES), len(regions.SOILS), len(regions.IRRIGATION))
    level = np.broadcast_to(wilting + STARTING_SHARE * available, shape).copy()
    curves = np.empty((*shape, len(weather.days)))
    for day in range(len(weather.days)):
        rain = weather.precipitation_mm[:, day][:, None, None]
        temp = weather.temp_c[:, day][:, None, None]
        level = _one_day(level, rain, temp, (wilting, capacity, saturation))
        if canal_open[day]:
            dry = level < wilting + trigger * available
            level = np.where(dry, wilting + target * available, level)
        curves[..., day] = level
    curves.flags.writeable = False
    return curves


def _one_day(
    level: np.ndarray,
    rain: np.ndarray,
    temp: np.ndarray,
    soil: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    wilting, capacity, saturation = soil
    level = np.minimum(level + INFILTRATION * rain, saturation)
    level = level - DRAINAGE_PER_DAY * np.maximum(level - capacity, 0.0)
    # Evaporation and uptake grow with warmth and with the water left to take.
    loss_rate = 0.01 + 0.004 * np.maximum(temp, 0.0)
    return level - loss_rate * (level - AIR_DRY_SHARE * wilting)


def draw_readings(
    rng: np.random.Generator, fields: FieldSeasons, seed: int, season: int
) -> pd.DataFrame:
    """One reading a week per field, from its first reading day to its harvest."""
    curves = moisture_curves(seed, season)
    days = curves.shape[-1]
    first_day = district_weather(seed, season).days[0]
    start = _first_reading(fields, season)
    counts = (fields.harvest - start).astype(int) // READING_INTERVAL_DAYS + 1

    owner = np.repeat(np.arange(len(counts)), counts)
    week = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    day = (start - first_day).astype(np.int64)[owner] + READING_INTERVAL_DAYS * week
    curve = np.ravel_multi_index(
        (fields.district, fields.soil, fields.irrigation), curves.shape[:-1]
    )
    value = curves.reshape(-1)[curve[owner] * days + day]

    offset = rng.normal(0.0, FIELD_OFFSET_SD_PCT, len(counts))
    value = value + offset[owner] + rng.normal(0.0, SENSOR_NOISE_SD_PCT, len(owner))
    value = np.round(np.clip(value, 0.0, MAX_MOISTURE_PCT), 1)
    # Arrow-backed columns concatenate across chunks without a copy, which
    # keeps a million farms' readings inside the memory budget.
    return pd.DataFrame(
        {
            "field_id": pd.array(fields.ids.take(pa.array(owner)), dtype=_arrow()),
            "date": pd.array(pa.array(first_day + day), dtype=_arrow(pa.date32())),
            "soil_moisture_pct": pd.array(pa.array(value), dtype=_arrow(pa.float64())),
        }
    )


def _arrow(kind: pa.DataType | None = None) -> pd.ArrowDtype:
    return pd.ArrowDtype(kind or pa.string())


def _first_reading(fields: FieldSeasons, season: int) -> np.ndarray:
    month, day = PERENNIAL_FIRST_READING
    spring = np.datetime64(f"{season}-{month:02d}-{day:02d}")
    return np.where(lookup.PERENNIAL[fields.crop], spring, fields.sowing)
