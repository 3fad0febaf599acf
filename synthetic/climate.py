"""One season of daily weather per district.

The season runs from the first autumn sowing (1 October of the year before) to
the end of the harvest year, so every field's growing period is covered.
Temperature follows an annual cosine plus persistent day-to-day anomalies;
rain falls on random days whose frequency peaks in each region's wet season.
The same arrays also drive the fields' soil moisture (:mod:`synthetic.moisture`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from synthetic import lookup, regions

WEATHER_STREAM = 1
LAPSE_RATE_C_PER_M = 0.0065
COLDEST_DAY_OF_YEAR = 20


@dataclass(frozen=True)
class DistrictWeather:
    """Daily weather, arrays of shape (district, day) in vocabulary order."""

    days: np.ndarray
    temp_c: np.ndarray
    precipitation_mm: np.ndarray
    humidity_pct: np.ndarray


def season_days(season: int) -> np.ndarray:
    """Every date of the season, as ``datetime64[D]``."""
    start = np.datetime64(f"{season - 1}-10-01")
    end = np.datetime64(f"{season}-12-31")
    return np.arange(start, end + np.timedelta64(1, "D"))


@lru_cache(maxsize=4)
def district_weather(seed: int, season: int) -> DistrictWeather:
    """The season's weather; cached, since every chunk of fields reads it."""
    rng = np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(WEATHER_STREAM,))
    )
    days = season_days(season)
    phase = _phase(days)
    climates = [regions.REGIONS[code].climate for code in lookup.DISTRICT_REGION]

    temp, normal = _temperature(rng, climates, phase)
    rain = _precipitation(rng, climates, phase)
    humidity = _humidity(rng, climates, phase, temp - normal, rain)
    weather = DistrictWeather(days, temp, rain, humidity)
    for array in (days, temp, rain, humidity):
        array.flags.writeable = False
    return weather


def generate_weather(seed: int, season: int) -> pd.DataFrame:
    """Return the ``weather`` table for one season, sorted by district and date."""
    weather = district_weather(seed, season)
    days = weather.days
    order = np.argsort(np.array(regions.DISTRICT_NAMES), kind="stable")
    district = np.repeat(order, len(days))
    return pd.DataFrame(
        {
            "district": pd.Categorical.from_codes(
                district, categories=list(regions.DISTRICT_NAMES)
            ),
            "date": np.tile(days, len(order)).astype("datetime64[ns]"),
            "temp_c": np.round(weather.temp_c[order].ravel(), 1),
            "precipitation_mm": np.round(weather.precipitation_mm[order].ravel(), 1),
            "humidity_pct": np.round(weather.humidity_pct[order].ravel(), 0),
        }
    )


def _phase(days: np.ndarray) -> np.ndarray:
    year_start = days.astype("datetime64[Y]").astype("datetime64[D]")
    day_of_year = (days - year_start).astype(int) + 1
    return 2 * np.pi * day_of_year / 365.25


def _column(climates: list[regions.Climate], name: str) -> np.ndarray:
    return np.array([getattr(climate, name) for climate in climates], float)[:, None]


def _temperature(
    rng: np.random.Generator, climates: list[regions.Climate], phase: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Daily mean temperature and its climatological normal, district by day."""
    mean = _column(climates, "mean_temp_c")
    mean = mean - LAPSE_RATE_C_PER_M * lookup.DISTRICT_ELEVATION[:, None]
    amplitude = _column(climates, "temp_amplitude_c")
    coldest = 2 * np.pi * COLDEST_DAY_OF_YEAR / 365.25
    normal = mean - amplitude * np.cos(phase - coldest)[None, :]

    # Weather persists for days: a first-order autoregressive anomaly.
    shocks = rng.normal(0.0, 1.8, normal.shape)
    anomaly = np.empty_like(normal)
    anomaly[:, 0] = shocks[:, 0]
    for day in range(1, normal.shape[1]):
        anomaly[:, day] = 0.75 * anomaly[:, day - 1] + shocks[:, day]
    return normal + anomaly, normal


def _precipitation(
    rng: np.random.Generator, climates: list[regions.Climate], phase: np.ndarray
) -> np.ndarray:
    annual = _column(climates, "annual_precip_mm")
    annual = annual * (1 + lookup.DISTRICT_ELEVATION[:, None] / 1500)
    wettest = 2 * np.pi * _column(climates, "wettest_day_of_year") / 365.25
    seasonality = _column(climates, "precip_seasonality")

    base = 0.10 + 0.22 * np.minimum(annual / 1300, 1.0)
    chance = np.clip(base * (1 + seasonality * np.cos(phase[None, :] - wettest)), 0, 1)
    per_wet_day = annual / (365.25 * chance.mean(axis=1, keepdims=True))
    wet = rng.random(chance.shape) < chance
    amount = rng.gamma(0.7, per_wet_day / 0.7, chance.shape)
    return np.where(wet, amount, 0.0)


def _humidity(
    rng: np.random.Generator,
    climates: list[regions.Climate],
    phase: np.ndarray,
    anomaly: np.ndarray,
    rain: np.ndarray,
) -> np.ndarray:
    base = _column(climates, "humidity_pct")
    coldest = 2 * np.pi * COLDEST_DAY_OF_YEAR / 365.25
    # Air is damper in winter, on rainy days and on cooler-than-usual days.
    seasonal = 8 * np.cos(phase - coldest)[None, :]
    noise = rng.normal(0, 4, rain.shape)
    humidity = base + seasonal - 1.2 * anomaly + 12 * (rain > 0) + noise
    return np.clip(humidity, 15, 100)
