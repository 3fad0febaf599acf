"""Seeded, vectorised generation of synthetic Azerbaijani farms.

Farms are generated in chunks of consecutive farm numbers. Each chunk draws
from its own random stream, derived from ``(seed, chunk index)`` with numpy's
``SeedSequence``, so a chunk comes out the same whichever process makes it and
whichever chunks are made beside it. Weather depends only on the seed and the
season; each field's soil-moisture readings come from its chunk's stream and
its district's weather. The chunk size and the region weights are therefore
part of what defines the data: the same seed with another chunk size gives
other (equally valid) farms.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import structlog

from synthetic import lookup, regions
from synthetic.climate import generate_weather
from synthetic.moisture import FieldSeasons, draw_readings
from synthetic.parameters import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_SEASON,
    check_arguments,
    district_cumulative,
)
from synthetic.schema import TABLE_NAMES

FARM_STREAM = 0
OWNER_POOL_SIZE = 256
PEST_OBSERVATION_RATE = 0.15
STRING = pd.ArrowDtype(pa.string())
CHUNKED_TABLES = (
    "farms",
    "fields",
    "livestock",
    "soil_moisture",
    "pest_observations",
)

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class _Farms:
    """What the field and livestock draws need to know about a chunk's farms."""

    ids: pa.Array
    region: np.ndarray
    district: np.ndarray
    farm_type: np.ndarray
    total_ares: np.ndarray


@dataclass(frozen=True)
class _Fields:
    """What the pest draws need to know about a chunk's fields."""

    ids: pa.Array
    farm_ids: pa.Array
    district: np.ndarray
    crop: np.ndarray
    soil: np.ndarray
    irrigation: np.ndarray
    sowing: np.ndarray
    harvest: np.ndarray

    def seasons(self) -> FieldSeasons:
        return FieldSeasons(
            self.ids,
            self.district,
            self.soil,
            self.irrigation,
            self.crop,
            self.sowing,
            self.harvest,
        )


def generate(
    seed: int,
    farms: int,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    season: int = DEFAULT_SEASON,
    workers: int = 1,
    region_weights: Mapping[str, float] | None = None,
) -> dict[str, pd.DataFrame]:
    """Generate every synthetic table for ``farms`` farms and one season.

    Returns a frame per name in :data:`synthetic.schema.TABLE_NAMES`. The same
    arguments (``workers`` aside) always give the same tables. With
    ``region_weights``, farms lie only in the named regions, in proportion to
    the weights.
    """
    check_arguments(seed, farms, chunk_size, season, workers, region_weights)
    weights = dict(region_weights) if region_weights else None
    indices = range(chunk_count(farms, chunk_size))
    args = [(seed, farms, index, chunk_size, season, weights) for index in indices]
    if workers > 1 and len(args) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            chunks = list(pool.map(_generate_chunk_star, args))
    else:
        chunks = [generate_chunk(*arg) for arg in args]

    tables = {
        name: pd.concat([chunk[name] for chunk in chunks], ignore_index=True)
        for name in CHUNKED_TABLES
    }
    tables["weather"] = generate_weather(seed, season)
    log.info(
        "synthetic.generated",
        seed=seed,
        farms=farms,
        chunks=len(chunks),
        rows={name: len(frame) for name, frame in tables.items()},
    )
    return {name: tables[name] for name in TABLE_NAMES}


def chunk_count(farms: int, chunk_size: int) -> int:
    """How many chunks ``farms`` farms make."""
    return -(-farms // chunk_size)


def generate_chunk(
    seed: int,
    farms: int,
    index: int,
    chunk_size: int,
    season: int,
    region_weights: Mapping[str, float] | None = None,
) -> dict[str, pd.DataFrame]:
    """Generate the farm-keyed tables for chunk ``index`` of ``farms`` farms."""
    start = index * chunk_size + 1
    numbers = np.arange(start, min(start + chunk_size, farms + 1), dtype=np.int64)
    sequence = np.random.SeedSequence(seed, spawn_key=(FARM_STREAM, index))
    rng = np.random.default_rng(sequence)
    owners = _owner_pool(int(sequence.generate_state(1)[0]))

    district_cum = district_cumulative(region_weights)
    farm_frame, farm_info = _draw_farms(rng, numbers, owners, district_cum)
    field_frame, field_info = _draw_fields(rng, farm_info, season)
    livestock = _draw_livestock(rng, farm_info)
    pests = _draw_pests(rng, field_info, season)
    return {
        "farms": farm_frame,
        "fields": field_frame,
        "livestock": livestock,
        "soil_moisture": draw_readings(rng, field_info.seasons(), seed, season),
        "pest_observations": pests,
    }


def _generate_chunk_star(args: tuple) -> dict:
    return generate_chunk(*args)


def _owner_pool(faker_seed: int) -> np.ndarray:
    # Faker is slow per call, so each chunk draws a small pool once and the
    # farms index into it.
    from faker import Faker

    fake = Faker("az_AZ")
    fake.seed_instance(faker_seed)
    return np.array([fake.name() for _ in range(OWNER_POOL_SIZE)])


def _strings(values: pa.Array | np.ndarray) -> pd.api.extensions.ExtensionArray:
    return pd.array(pa.array(values, type=pa.string()), dtype=STRING)


def _categories(codes: np.ndarray, vocabulary: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=list(vocabulary))


def _draw_farms(
    rng: np.random.Generator,
    numbers: np.ndarray,
    owners: np.ndarray,
    district_cum: np.ndarray,
) -> tuple[pd.DataFrame, _Farms]:
    n = len(numbers)
    district = lookup.sample_codes(rng, district_cum[None, :], np.zeros(n, int))
    region = lookup.DISTRICT_REGION[district]
    box = lookup.REGION_BOX[region]
    latitude = np.clip(
        lookup.DISTRICT_LAT[district] + rng.normal(0, 0.05, n), *box.T[:2]
    )
    longitude = np.clip(
        lookup.DISTRICT_LON[district] + rng.normal(0, 0.06, n), *box.T[2:]
    )
    # Areas are kept in ares (0.01 ha) so field sums compare exactly.
    total_ares = np.clip(np.rint(rng.lognormal(np.log(300), 1.0, n)), 10, 500_000)
    farm_type = lookup.sample_codes(
        rng, np.cumsum(regions.FARM_TYPE_SHARES)[None, :], np.zeros(n, int)
    )

    ids = pc.binary_join_element_wise(
        "AZ-", pc.utf8_lpad(pa.array(numbers).cast(pa.string()), 6, "0"), ""
    )
    frame = pd.DataFrame(
        {
            "farm_id": _strings(ids),
            "owner": _strings(owners[rng.integers(0, len(owners), n)]),
            "region": _categories(region, regions.REGION_NAMES),
            "district": _categories(district, regions.DISTRICT_NAMES),
            "latitude": np.round(latitude, 5),
            "longitude": np.round(longitude, 5),
            "total_area_ha": total_ares / 100,
            "farm_type": _categories(farm_type, regions.FARM_TYPES),
        }
    )
    areas = total_ares.astype(np.int64)
    return frame, _Farms(ids, region, district, farm_type, areas)


def _split_areas(
    rng: np.random.Generator, farms: _Farms
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fields per farm and their areas in ares, never more than the farm."""
    n = len(farms.total_ares)
    usable = np.floor(farms.total_ares * rng.uniform(0.75, 1.0, n)).astype(np.int64)
    wanted = 1 + rng.poisson(0.6 + 0.5 * np.log1p(farms.total_ares / 100))
    counts = np.minimum(np.clip(wanted, 1, 6), usable)
    owner = np.repeat(np.arange(n), counts)

    shares = rng.gamma(2.0, 1.0, len(owner))
    shares /= np.bincount(owner, weights=shares, minlength=n)[owner]
    # One are each, then the rest split by share and rounded down.
    spare = (usable - counts)[owner]
    ares = 1 + np.floor(shares * spare).astype(np.int64)
    ordinal = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, ordinal + 1, ares


def _draw_fields(
    rng: np.random.Generator, farms: _Farms, season: int
) -> tuple[pd.DataFrame, _Fields]:
    owner, ordinal, ares = _split_areas(rng, farms)
    n = len(owner)
    region = farms.region[owner]

    crop = lookup.sample_codes(rng, lookup.REGION_CROP_CUM, region)
    # Livestock farms grow fodder on most of their land.
    is_herder = farms.farm_type[owner] == regions.FARM_TYPES.index("livestock")
    crop[is_herder & (rng.random(n) < 0.6)] = lookup.CROP_CODE["alfalfa"]
    soil = lookup.sample_codes(rng, lookup.REGION_SOIL_CUM, region)
    irrigation = lookup.sample_codes(rng, lookup.REGION_IRRIGATION_CUM, region)
    irrigation[crop == lookup.CROP_CODE["rice"]] = regions.IRRIGATION.index("flood")
    irrigation[crop == lookup.CROP_CODE["tea"]] = regions.IRRIGATION.index("rainfed")
    sowing, harvest = _draw_dates(rng, crop, season)

    farm_ids = farms.ids.take(pa.array(owner))
    ids = pc.binary_join_element_wise(
        farm_ids, pa.array(ordinal).cast(pa.string()), "-F"
    )
    frame = pd.DataFrame(
        {
            "field_id": _strings(ids),
            "farm_id": _strings(farm_ids),
            "area_ha": ares / 100,
            "crop": _categories(crop, regions.CROPS),
            "soil_type": _categories(soil, regions.SOILS),
            "irrigation": _categories(irrigation, regions.IRRIGATION),
            "sowing_date": sowing.astype("datetime64[ns]"),
            "expected_harvest_date": harvest.astype("datetime64[ns]"),
        }
    )
    district = farms.district[owner]
    info = _Fields(ids, farm_ids, district, crop, soil, irrigation, sowing, harvest)
    return frame, info


def _draw_dates(
    rng: np.random.Generator, crop: np.ndarray, season: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sowing (or planting) and expected harvest dates inside each crop's windows."""
    n = len(crop)
    low, high = regions.PLANTING_AGE_YEARS
    age = rng.integers(low, high + 1, n)
    sow_year = np.where(
        lookup.PERENNIAL[crop], season - age, season + lookup.SOW_YEAR_OFFSET[crop]
    )
    sow_offset = np.floor(rng.random(n) * lookup.SOW_DAYS[crop]).astype(int)
    sowing = lookup.window_start(sow_year, lookup.SOW_MONTH_DAY[crop]) + sow_offset

    harvest_offset = np.floor(rng.random(n) * lookup.HARVEST_DAYS[crop]).astype(int)
    harvest_year = np.full(n, season)
    harvest = lookup.window_start(harvest_year, lookup.HARVEST_MONTH_DAY[crop])
    return sowing, harvest + harvest_offset


def _draw_livestock(rng: np.random.Generator, farms: _Farms) -> pd.DataFrame:
    presence_p = np.array(regions.SPECIES_PRESENCE)[farms.farm_type]
    present = rng.random(presence_p.shape) < presence_p
    # Livestock and mixed farms keep at least cattle.
    keeps_none = ~present.any(axis=1) & (farms.farm_type > 0)
    present[keeps_none, 0] = True

    farm_row, species = np.nonzero(present)
    mean = np.array(regions.HERD_MEAN)[farms.farm_type[farm_row], species]
    dispersion = 2.0
    heads = 1 + rng.negative_binomial(dispersion, dispersion / (dispersion + mean - 1))
    return pd.DataFrame(
        {
            "farm_id": _strings(farms.ids.take(pa.array(farm_row))),
            "species": _categories(species, regions.SPECIES),
            "head_count": heads.astype(np.int32),
        }
    )


def _draw_pests(rng: np.random.Generator, fields: _Fields, season: int) -> pd.DataFrame:
    n = len(fields.crop)
    chosen = np.flatnonzero(rng.random(n) < PEST_OBSERVATION_RATE)
    crop = fields.crop[chosen]

    # Pests are scouted from a week after sowing, or from spring on perennials.
    spring = np.datetime64(f"{season}-03-15")
    first = np.where(
        lookup.PERENNIAL[crop], spring, fields.sowing[chosen] + np.timedelta64(7, "D")
    )
    span = (fields.harvest[chosen] - first).astype(int) + 1
    observed = first + np.floor(rng.random(len(chosen)) * span).astype(int)
    option = np.floor(rng.random(len(chosen)) * lookup.PEST_OPTION_COUNT[crop])
    pest = lookup.PEST_OPTIONS[crop, option.astype(int)]
    severity = lookup.sample_codes(
        rng, np.array([[0.55, 0.85, 1.0]]), np.zeros(len(chosen), int)
    )
    index = pa.array(chosen)
    return pd.DataFrame(
        {
            "field_id": _strings(fields.ids.take(index)),
            "farm_id": _strings(fields.farm_ids.take(index)),
            "observed_on": observed.astype("datetime64[ns]"),
            "pest": _categories(pest, regions.PESTS),
            "severity": _categories(severity, regions.SEVERITIES),
        }
    )
