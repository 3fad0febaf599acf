"""Soil-moisture readings: weekly per field, wetter after rain, drier in heat."""

from __future__ import annotations

import pandas as pd
import pytest

from synthetic.moisture import READING_INTERVAL_DAYS

LIGHT_SOILS = {"grey", "grey_brown"}
HEAVY_SOILS = {"yellow", "mountain_brown_forest", "alluvial_meadow"}


@pytest.fixture(scope="module")
def readings(tables):
    """Every reading with its field, district and the weather just before it."""
    weather = tables["weather"].sort_values(["district", "date"]).copy()
    by_district = weather.groupby("district", observed=True)
    weather["rain_3d"] = by_district["precipitation_mm"].transform(
        lambda s: s.rolling(3, min_periods=1).sum()
    )
    weather["temp_7d"] = by_district["temp_c"].transform(
        lambda s: s.rolling(7, min_periods=1).mean()
    )
    fields = tables["fields"].merge(
        tables["farms"][["farm_id", "district"]], on="farm_id"
    )
    frame = _plain(tables["soil_moisture"]).merge(_plain(fields), on="field_id")
    frame = frame.merge(
        weather[["district", "date", "rain_3d", "temp_7d"]].astype({"district": str}),
        on=["district", "date"],
    )
    frame["anomaly"] = frame["soil_moisture_pct"] - frame.groupby("field_id")[
        "soil_moisture_pct"
    ].transform("mean")
    return frame


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    kinds = {}
    for name, dtype in frame.dtypes.items():
        if "date" in name:
            kinds[name] = "datetime64[ns]"
        elif not pd.api.types.is_numeric_dtype(dtype):
            kinds[name] = str
        else:
            kinds[name] = float
    return frame.astype(kinds)


def test_every_field_is_read_weekly_within_its_season(tables):
    readings = _plain(tables["soil_moisture"]).sort_values(["field_id", "date"])
    fields = _plain(tables["fields"]).set_index("field_id")
    by_field = readings.groupby("field_id")["date"]

    assert set(readings["field_id"]) == set(fields.index)
    gaps = by_field.diff().dropna().dt.days
    assert (gaps == READING_INTERVAL_DAYS).all()
    first, last = by_field.min(), by_field.max()
    assert (first >= fields.loc[first.index, "sowing_date"]).all()
    harvest = fields.loc[last.index, "expected_harvest_date"]
    assert (last <= harvest).all()
    assert ((harvest - last).dt.days < READING_INTERVAL_DAYS).all()


def test_readings_are_volumetric_percentages_between_0_and_60(tables):
    moisture = tables["soil_moisture"]["soil_moisture_pct"]

    assert moisture.between(0.0, 60.0).all()
    assert 15 < moisture.mean() < 40


def test_rain_wets_rainfed_fields(readings):
    rainfed = readings[readings["irrigation"] == "rainfed"]

    after_rain = rainfed[rainfed["rain_3d"] >= 10]["anomaly"].mean()
    after_dry_days = rainfed[rainfed["rain_3d"] == 0]["anomaly"].mean()

    assert after_rain > after_dry_days + 4


def test_heat_dries_rainfed_fields(readings):
    rainfed = readings[readings["irrigation"] == "rainfed"]

    hot_weeks = rainfed[rainfed["temp_7d"] >= 25]["anomaly"].mean()
    cold_weeks = rainfed[rainfed["temp_7d"] <= 5]["anomaly"].mean()

    assert hot_weeks < cold_weeks - 3


def test_irrigated_fields_stay_wetter_than_rainfed_ones_in_july(readings):
    july = readings[readings["date"].dt.month == 7]
    mean = july.groupby("irrigation")["soil_moisture_pct"].mean()

    for method in ("furrow", "flood", "sprinkler", "drip"):
        assert mean[method] > mean["rainfed"] + 2, mean


def test_clay_rich_soils_hold_more_water_than_light_ones(readings):
    by_soil = readings.groupby("soil_type")["soil_moisture_pct"].mean()

    heavy = by_soil[by_soil.index.isin(HEAVY_SOILS)]
    light = by_soil[by_soil.index.isin(LIGHT_SOILS)]
    assert heavy.min() > light.max() + 3, by_soil
