"""Data expectations for the synthetic tables, run with Great Expectations.

Each table gets a suite of its own, run in an in-memory context against a frame
that carries, beside the table's columns, the few facts a check needs from
another table (a field's farm, a farm's region box). That keeps every check a
plain built-in expectation whose result counts the rows that break it.
Great Expectations is imported only when a validation runs (it takes seconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import structlog

from synthetic import regions
from synthetic.errors import DataInputError, DataValidationError
from synthetic.schema import TABLE_NAMES

MAX_AREA_HA = 5000.0

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Check:
    """One expectation on one table, with the column a person should look at."""

    table: str
    expectation: str
    column: str
    description: str
    success: bool
    unexpected_count: int
    element_count: int


@dataclass(frozen=True)
class ValidationReport:
    """Every check's outcome and the row count of every table."""

    checks: tuple[Check, ...]
    rows: Mapping[str, int]

    @property
    def success(self) -> bool:
        return all(check.success for check in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.success)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form whose content depends only on the data."""
        return {
            "success": self.success,
            "expectations": len(self.checks),
            "failed": len(self.failures),
            "rows": dict(sorted(self.rows.items())),
            "checks": [asdict(check) for check in self.checks],
        }

    def summary(self) -> str:
        """Say which expectations failed, on how many rows, and what to do."""
        if self.success:
            return f"All {len(self.checks)} expectations passed."
        lines = [
            f"The synthetic tables break {len(self.failures)} of "
            f"{len(self.checks)} expectations:"
        ]
        for check in self.failures:
            lines.append(
                f"  - {check.table}: {check.expectation} on {check.column}: "
                f"{check.unexpected_count} of {check.element_count} rows break it "
                f"({check.description})"
            )
        lines.append(
            "Do not use these tables. Regenerate them with `yonca synth` (the same "
            "seed gives the same data); if they still fail, the generator or the "
            "facts in synthetic/regions.py need fixing."
        )
        return "\n".join(lines)


def validate(
    tables: Mapping[str, pd.DataFrame],
    raise_on_failure: bool = True,
    docs_dir: Path | None = None,
) -> ValidationReport:
    """Run every suite; raise :class:`DataValidationError` when a check fails.

    With ``docs_dir``, Great Expectations' Data Docs (HTML, with run times in
    them) replace that directory's content.
    """
    missing = [name for name in TABLE_NAMES if name not in tables]
    if missing:
        raise DataInputError(
            f"No {', '.join(missing)} table to validate; generate every table "
            "with `yonca synth`."
        )
    frames = {name: _plain(tables[name]) for name in TABLE_NAMES}
    prepared = _prepare(frames)
    checks = _run_suites(prepared, docs_dir)
    report = ValidationReport(
        checks=checks, rows={name: len(frames[name]) for name in TABLE_NAMES}
    )
    log.info(
        "synthetic.validated",
        success=report.success,
        expectations=len(checks),
        failed=len(report.failures),
    )
    if raise_on_failure and not report.success:
        raise DataValidationError(report.summary(), report)
    return report


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Object strings, nanosecond datetimes and numpy numbers, however built."""
    return pd.DataFrame({name: _plain_series(series) for name, series in frame.items()})


def _plain_series(series: pd.Series) -> pd.Series:
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.astype("datetime64[ns]")
    if isinstance(dtype, pd.ArrowDtype) and pd.api.types.is_numeric_dtype(dtype):
        return series.astype(dtype.numpy_dtype)
    if isinstance(dtype, pd.CategoricalDtype | pd.ArrowDtype | pd.StringDtype):
        return series.astype(object)
    if dtype.kind in {"O", "U", "T"}:
        return series.astype(object)
    return series


def _prepare(frames: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    farms, fields = frames["farms"], frames["fields"]
    return {
        "farms": _with_region_box(farms),
        "fields": _with_farm_facts(fields, farms),
        "livestock": _with_known(frames["livestock"], "farm_id", farms["farm_id"]),
        "weather": frames["weather"],
        "soil_moisture": _with_field_season(frames["soil_moisture"], fields),
        "pest_observations": _with_field_facts(frames["pest_observations"], fields),
    }


def _with_region_box(farms: pd.DataFrame) -> pd.DataFrame:
    boxes = {r.name: r.box for r in regions.REGIONS}
    frame = farms.copy()
    for side in ("lat_min", "lat_max", "lon_min", "lon_max"):
        values = {name: getattr(box, side) for name, box in boxes.items()}
        frame[f"region_{side}"] = farms["region"].map(values).astype(float)
    frame["region_district"] = _joined(farms["region"], farms["district"])
    return frame


def _joined(first: pd.Series, second: pd.Series) -> pd.Series:
    """``first/second`` per row, for checking pairs of values as one set."""
    return first.astype(str).str.cat(second.astype(str), sep="/")


def _with_known(frame: pd.DataFrame, column: str, keys: pd.Series) -> pd.DataFrame:
    frame = frame.copy()
    frame[f"{column}_known"] = frame[column].isin(keys)
    return frame


def _with_farm_facts(fields: pd.DataFrame, farms: pd.DataFrame) -> pd.DataFrame:
    frame = _with_known(fields, "farm_id", farms["farm_id"])
    farm = farms.drop_duplicates("farm_id").set_index("farm_id")
    frame["farm_region"] = frame["farm_id"].map(farm["region"])
    frame["farm_total_area_ha"] = frame["farm_id"].map(farm["total_area_ha"])
    frame["region_crop"] = _joined(frame["farm_region"], frame["crop"])
    # Sum in ares (0.01 ha) so rounding cannot make a farm look overfull.
    ares = np.rint(frame["area_ha"] * 100)
    frame["farm_fields_area_ha"] = ares.groupby(frame["farm_id"]).transform("sum") / 100
    frame["sowing_in_window"] = _in_window(frame, "sowing_date", "sowing")
    frame["harvest_in_window"] = _in_window(frame, "expected_harvest_date", "harvest")
    return frame


def _in_window(frame: pd.DataFrame, column: str, which: str) -> pd.Series:
    """Whether each date falls in its crop's sowing or harvest window."""
    calendars = regions.CROP_CALENDARS
    start = {c: _month_day(getattr(k, which).start) for c, k in calendars.items()}
    end = {c: _month_day(getattr(k, which).end) for c, k in calendars.items()}
    dates = frame[column]
    month_day = dates.dt.month * 100 + dates.dt.day
    low = frame["crop"].map(start).astype(float)
    high = frame["crop"].map(end).astype(float)
    return (month_day >= low) & (month_day <= high)


def _month_day(pair: tuple[int, int]) -> int:
    return pair[0] * 100 + pair[1]


def _with_field_facts(pests: pd.DataFrame, fields: pd.DataFrame) -> pd.DataFrame:
    frame = _with_known(pests, "field_id", fields["field_id"])
    field = fields.drop_duplicates("field_id").set_index("field_id")
    frame["crop_pest"] = _joined(frame["field_id"].map(field["crop"]), frame["pest"])
    frame["field_sowing_date"] = frame["field_id"].map(field["sowing_date"])
    frame["field_harvest_date"] = frame["field_id"].map(field["expected_harvest_date"])
    return frame


def _with_field_season(readings: pd.DataFrame, fields: pd.DataFrame) -> pd.DataFrame:
    """Add whether each reading's field exists and whether it is in its season."""
    frame = _with_known(readings, "field_id", fields["field_id"])
    field = fields.drop_duplicates("field_id").set_index("field_id")
    sowing = frame["field_id"].map(field["sowing_date"])
    harvest = frame["field_id"].map(field["expected_harvest_date"])
    # Compared here, not as a column pair, which Great Expectations checks
    # row by row.
    frame["in_field_season"] = (frame["date"] >= sowing) & (frame["date"] <= harvest)
    return frame


def _run_suites(
    prepared: Mapping[str, pd.DataFrame], docs_dir: Path | None
) -> tuple[Check, ...]:
    from synthetic import suites

    context = suites.ephemeral_context()
    source = context.data_sources.add_pandas(name="synthetic")
    checks: list[Check] = []
    for name in TABLE_NAMES:
        definition = suites.validation_definition(context, source, name)
        try:
            result = definition.run(
                batch_parameters={"dataframe": prepared[name]},
                result_format="BASIC",
            )
        except Exception as exc:
            raise DataInputError(
                f"Great Expectations could not validate the {name} table: {exc}. "
                "Check that the table has the columns the generator writes."
            ) from exc
        checks.extend(suites.read_checks(name, result))
    if docs_dir is not None:
        suites.copy_data_docs(context, docs_dir)
    return tuple(checks)
