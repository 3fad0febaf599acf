"""The expectation suite of each synthetic table, in Great Expectations terms.

Every expectation carries a plain-language ``description`` (what must hold) and
``meta["column"]`` (the column a person should look at, even when the check
reads a helper column added by :mod:`synthetic.expectations`).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from synthetic import regions
from synthetic.expectations import MAX_AREA_HA, Check


@dataclass(frozen=True)
class Spec:
    """One expectation to build: its class, arguments and plain meaning."""

    kind: str
    column: str
    description: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def import_gx() -> Any:
    """Import Great Expectations on first use; it is slow to import."""
    import great_expectations as gx

    return gx


def ephemeral_context() -> Any:
    """An in-memory context that draws no progress bars on the terminal."""
    gx = import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # Some Great Expectations modules pin their own logger to INFO on import.
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _unique(column: str, what: str) -> Spec:
    return Spec(
        "ExpectColumnValuesToBeUnique",
        column,
        f"each {what} appears once",
        {"column": column},
    )


def _compound_unique(columns: list[str], what: str) -> Spec:
    return Spec(
        "ExpectCompoundColumnsToBeUnique",
        ", ".join(columns),
        f"each {what} appears once",
        {"column_list": columns},
    )


def _known(column: str, helper: str, what: str) -> Spec:
    return Spec(
        "ExpectColumnValuesToBeInSet",
        column,
        what,
        {"column": helper, "value_set": [True]},
    )


def _between(column: str, low: float, high: float, unit: str = "") -> Spec:
    return Spec(
        "ExpectColumnValuesToBeBetween",
        column,
        f"{column} lies between {low} and {high}{unit}",
        {"column": column, "min_value": low, "max_value": high},
    )


def _in_set(column: str, values: tuple[str, ...]) -> Spec:
    return Spec(
        "ExpectColumnValuesToBeInSet",
        column,
        f"{column} is a known value",
        {"column": column, "value_set": list(values)},
    )


def _not_null(column: str) -> Spec:
    return Spec(
        "ExpectColumnValuesToNotBeNull",
        column,
        f"{column} is always present",
        {"column": column},
    )


def _at_least(
    column: str, high: str, low: str, description: str, strict: bool = False
) -> Spec:
    return Spec(
        "ExpectColumnPairValuesAToBeGreaterThanB",
        column,
        description,
        {"column_A": high, "column_B": low, "or_equal": not strict},
    )


def _pairs(column: str, helper: str, pairs: list, description: str) -> Spec:
    # Great Expectations checks column pairs row by row in pandas (minutes for a
    # million rows), so pairs are joined into one helper column and checked as
    # a set, which is vectorised.
    allowed = sorted(f"{a}/{b}" for a, b in pairs)
    return Spec(
        "ExpectColumnValuesToBeInSet",
        column,
        description,
        {"column": helper, "value_set": allowed},
    )


def _region_districts() -> list[tuple[str, str]]:
    return sorted((regions.DISTRICT_REGION[d], d) for d in regions.DISTRICT_NAMES)


def _region_crops() -> list[tuple[str, str]]:
    return sorted((r.name, crop) for r in regions.REGIONS for crop in r.crops)


def _crop_pests() -> list[tuple[str, str]]:
    return sorted(
        (crop, pest) for crop, pests in regions.PESTS_BY_CROP.items() for pest in pests
    )


def _box(side: str) -> str:
    return f"the farm lies no further {side} than its region's box"


def _farm_specs() -> list[Spec]:
    return [
        _unique("farm_id", "farm_id"),
        Spec(
            "ExpectColumnValuesToMatchRegex",
            "farm_id",
            "farm_id looks like AZ-000001",
            {"column": "farm_id", "regex": r"^AZ-\d{6,}$"},
        ),
        _not_null("owner"),
        _in_set("region", regions.REGION_NAMES),
        _pairs(
            "district",
            "region_district",
            _region_districts(),
            "the district lies in the farm's region",
        ),
        _at_least("latitude", "latitude", "region_lat_min", _box("south")),
        _at_least("latitude", "region_lat_max", "latitude", _box("north")),
        _at_least("longitude", "longitude", "region_lon_min", _box("west")),
        _at_least("longitude", "region_lon_max", "longitude", _box("east")),
        _between("total_area_ha", 0.1, MAX_AREA_HA, " ha"),
        _in_set("farm_type", regions.FARM_TYPES),
    ]


def _field_specs() -> list[Spec]:
    return [
        _unique("field_id", "field_id"),
        _known("farm_id", "farm_id_known", "every field belongs to a known farm"),
        _between("area_ha", 0.01, MAX_AREA_HA, " ha"),
        _at_least(
            "area_ha",
            "farm_total_area_ha",
            "farm_fields_area_ha",
            "a farm's fields add up to no more than the farm's total area",
        ),
        _in_set("crop", regions.CROPS),
        _pairs(
            "crop",
            "region_crop",
            _region_crops(),
            "the crop is grown in the farm's region",
        ),
        _in_set("soil_type", regions.SOILS),
        _in_set("irrigation", regions.IRRIGATION),
        _not_null("sowing_date"),
        _at_least(
            "expected_harvest_date",
            "expected_harvest_date",
            "sowing_date",
            "harvest comes after sowing",
            strict=True,
        ),
        _known(
            "sowing_date",
            "sowing_in_window",
            "sowing falls in the crop's sowing window",
        ),
        _known(
            "expected_harvest_date",
            "harvest_in_window",
            "harvest falls in the crop's harvest window",
        ),
    ]


def _livestock_specs() -> list[Spec]:
    return [
        _compound_unique(["farm_id", "species"], "species of a farm"),
        _known("farm_id", "farm_id_known", "every herd belongs to a known farm"),
        _in_set("species", regions.SPECIES),
        _between("head_count", 1, 20_000),
    ]


def _weather_specs() -> list[Spec]:
    return [
        _compound_unique(["district", "date"], "district and date"),
        _in_set("district", regions.DISTRICT_NAMES),
        _between("temp_c", -35.0, 48.0, " °C"),
        _between("precipitation_mm", 0.0, 300.0, " mm"),
        _between("humidity_pct", 0.0, 100.0, " %"),
    ]


def _soil_moisture_specs() -> list[Spec]:
    return [
        _compound_unique(["field_id", "date"], "field and reading date"),
        _known("field_id", "field_id_known", "every reading is of a known field"),
        _between("soil_moisture_pct", 0.0, 60.0, " % by volume"),
        _known(
            "date",
            "in_field_season",
            "the reading falls between the field's sowing and its harvest",
        ),
    ]


def _pest_specs() -> list[Spec]:
    return [
        _unique("field_id", "observed field"),
        _known("field_id", "field_id_known", "every observation is on a known field"),
        _in_set("pest", regions.PESTS),
        _pairs(
            "pest",
            "crop_pest",
            _crop_pests(),
            "the pest attacks the field's crop",
        ),
        _in_set("severity", regions.SEVERITIES),
        _at_least(
            "observed_on",
            "field_harvest_date",
            "observed_on",
            "the observation is no later than the field's harvest",
        ),
        _at_least(
            "observed_on",
            "observed_on",
            "field_sowing_date",
            "the observation is no earlier than the field's sowing",
        ),
    ]


SPECS = {
    "farms": _farm_specs,
    "fields": _field_specs,
    "livestock": _livestock_specs,
    "weather": _weather_specs,
    "soil_moisture": _soil_moisture_specs,
    "pest_observations": _pest_specs,
}


def validation_definition(context: Any, source: Any, table: str) -> Any:
    """Register the table's asset, suite and validation definition in ``context``."""
    gx = import_gx()
    batch = source.add_dataframe_asset(name=table).add_batch_definition_whole_dataframe(
        name=f"{table}_whole"
    )
    suite = context.suites.add(gx.ExpectationSuite(name=f"{table}_suite"))
    for spec in SPECS[table]():
        expectation_class = getattr(gx.expectations, spec.kind)
        suite.add_expectation(
            expectation_class(
                **spec.kwargs,
                description=spec.description,
                meta={"column": spec.column},
            )
        )
    return context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{table}_validation", data=batch, suite=suite)
    )


def read_checks(table: str, result: Any) -> list[Check]:
    """Turn a validation result into checks, in the order the suite lists them."""
    position = {
        (spec.column, spec.description): index
        for index, spec in enumerate(SPECS[table]())
    }
    checks = [_check(table, outcome) for outcome in result.results]
    return sorted(
        checks, key=lambda c: position.get((c.column, c.description), len(position))
    )


def _check(table: str, outcome: Any) -> Check:
    config = outcome.expectation_config
    details = outcome.result or {}
    element_count = int(details.get("element_count") or 0)
    unexpected = int(details.get("unexpected_count") or 0)
    # An expectation that could not run at all counts every row against it.
    if (outcome.exception_info or {}).get("raised_exception"):
        unexpected = element_count
    return Check(
        table=table,
        expectation=config.type,
        column=str(config.meta.get("column")),
        description=str(config.description),
        success=bool(outcome.success),
        unexpected_count=unexpected,
        element_count=element_count,
    )


def copy_data_docs(context: Any, docs_dir: Path) -> Path:
    """Build the context's Data Docs and put a copy in ``docs_dir``."""
    index_url = context.build_data_docs()["local_site"]
    site = Path(url2pathname(urlsplit(index_url).path)).parent
    docs_dir = Path(docs_dir)
    shutil.rmtree(docs_dir, ignore_errors=True)
    shutil.copytree(site, docs_dir)
    return docs_dir / "index.html"
