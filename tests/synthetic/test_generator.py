"""Generated tables are reproducible, hold together and look like Azerbaijan."""

from __future__ import annotations

import hashlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from synthetic import regions
from synthetic.climate import season_days
from synthetic.errors import GenerationError
from synthetic.generator import CHUNKED_TABLES, chunk_count, generate, generate_chunk
from synthetic.schema import TABLE_NAMES
from synthetic.workflow import synthesize
from tests.synthetic.conftest import CHUNK_SIZE, FARMS, SEED


def _parquet_hashes(directory: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.glob("*.parquet"))
    }


def test_same_seed_writes_byte_identical_parquet_files(tmp_path):
    first = synthesize(SEED, 120, tmp_path / "a", chunk_size=50)
    second = synthesize(SEED, 120, tmp_path / "b", chunk_size=50)

    hashes = _parquet_hashes(first.out_dir)
    assert sorted(hashes) == sorted(f"{name}.parquet" for name in TABLE_NAMES)
    assert hashes == _parquet_hashes(second.out_dir)


def test_different_seed_gives_different_files(tmp_path):
    first = _parquet_hashes(synthesize(1, 120, tmp_path / "a").out_dir)
    second = _parquet_hashes(synthesize(2, 120, tmp_path / "b").out_dir)

    differing = {name for name in first if first[name] != second[name]}
    assert differing == set(first)


def test_chunks_made_in_separate_processes_equal_one_pass(tables):
    chunks = range(chunk_count(FARMS, CHUNK_SIZE))
    args = [(SEED, FARMS, index, CHUNK_SIZE, 2025) for index in chunks]
    with ProcessPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(generate_chunk, *zip(*args, strict=True)))

    assert len(parts) == 3
    for name in CHUNKED_TABLES:
        joined = pd.concat([part[name] for part in parts], ignore_index=True)
        pd.testing.assert_frame_equal(joined, tables[name])


def test_a_chunk_does_not_depend_on_how_many_farms_follow(tables):
    longer = generate_chunk(SEED, 10 * FARMS, 0, CHUNK_SIZE, 2025)

    pd.testing.assert_frame_equal(longer["farms"], tables["farms"].iloc[:CHUNK_SIZE])


def test_workers_do_not_change_the_tables(tables):
    parallel = generate(SEED, FARMS, chunk_size=CHUNK_SIZE, workers=2)

    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(parallel[name], tables[name])


def test_every_reference_points_at_an_existing_row(tables):
    farms, fields = tables["farms"], tables["fields"]

    assert farms["farm_id"].is_unique and fields["field_id"].is_unique
    assert len(farms) == FARMS and farms["farm_id"].iloc[0] == "AZ-000001"
    assert fields["farm_id"].isin(farms["farm_id"]).all()
    assert tables["livestock"]["farm_id"].isin(farms["farm_id"]).all()
    assert tables["pest_observations"]["field_id"].isin(fields["field_id"]).all()
    assert not tables["livestock"].duplicated(["farm_id", "species"]).any()


def test_fields_fit_inside_their_farm(tables):
    farms = tables["farms"].set_index("farm_id")
    fields = tables["fields"]
    used = fields.groupby("farm_id")["area_ha"].sum()

    assert (fields["area_ha"] >= 0.01).all()
    assert (used <= farms.loc[used.index, "total_area_ha"] + 1e-9).all()
    assert (fields["expected_harvest_date"] > fields["sowing_date"]).all()


def test_farms_lie_in_their_region_and_grow_its_crops(tables):
    farms = tables["farms"]
    for region in regions.REGIONS:
        mine = farms[farms["region"] == region.name]
        assert mine["latitude"].between(region.box.lat_min, region.box.lat_max).all()
        assert mine["longitude"].between(region.box.lon_min, region.box.lon_max).all()
        assert set(mine["district"]) <= {d.name for d in region.districts}

    fields = tables["fields"].merge(farms[["farm_id", "region"]], on="farm_id")
    for region_name, crops in fields.groupby("region", observed=True)["crop"]:
        assert set(crops) <= regions.plausible_crops(region_name)


def test_weather_covers_every_district_every_day_with_summer_heat(tables):
    weather = tables["weather"]
    days = season_days(2025)

    assert len(weather) == len(regions.DISTRICT_NAMES) * len(days)
    assert not weather.duplicated(["district", "date"]).any()
    month = weather["date"].dt.month
    assert (
        weather[month == 7]["temp_c"].mean() > weather[month == 1]["temp_c"].mean() + 15
    )
    yearly = weather[weather["date"].dt.year == 2025]
    rain = yearly.groupby("district", observed=True)["precipitation_mm"].sum()
    assert rain["Lankaran"] > 2 * rain["Absheron"]


def test_no_column_is_a_plain_object_column(tables):
    for name, frame in tables.items():
        kinds = {column: str(dtype) for column, dtype in frame.dtypes.items()}
        assert "object" not in kinds.values(), f"{name}: {kinds}"


def test_impossible_requests_are_refused_with_the_reason():
    with pytest.raises(GenerationError, match="farms must be at least 1, got 0"):
        generate(1, 0)
    with pytest.raises(GenerationError, match="seed must be at least 0, got -1"):
        generate(-1, 10)
    with pytest.raises(GenerationError, match="seed must be a whole number"):
        generate(4.5, 10)
