"""The synthetic tables: their columns, kinds, keys and references.

One description serves the Parquet writer, the SQLite and PostgreSQL loaders and
the expectations, so a column is added or renamed in one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """A column and its kind: ``text``, ``float``, ``int`` or ``date``."""

    name: str
    kind: str


@dataclass(frozen=True)
class Table:
    """A table, its primary key and the tables its columns refer to."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[tuple[str, str], ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


def _columns(*pairs: str) -> tuple[Column, ...]:
    return tuple(Column(*pair.split(":")) for pair in pairs)


FARMS = Table(
    "farms",
    _columns(
        "farm_id:text",
        "owner:text",
        "region:text",
        "district:text",
        "latitude:float",
        "longitude:float",
        "total_area_ha:float",
        "farm_type:text",
    ),
    key=("farm_id",),
)
FIELDS = Table(
    "fields",
    _columns(
        "field_id:text",
        "farm_id:text",
        "area_ha:float",
        "crop:text",
        "soil_type:text",
        "irrigation:text",
        "sowing_date:date",
        "expected_harvest_date:date",
    ),
    key=("field_id",),
    references=(("farm_id", "farms"),),
)
LIVESTOCK = Table(
    "livestock",
    _columns("farm_id:text", "species:text", "head_count:int"),
    key=("farm_id", "species"),
    references=(("farm_id", "farms"),),
)
WEATHER = Table(
    "weather",
    _columns(
        "district:text",
        "date:date",
        "temp_c:float",
        "precipitation_mm:float",
        "humidity_pct:float",
    ),
    key=("district", "date"),
)
SOIL_MOISTURE = Table(
    "soil_moisture",
    _columns("field_id:text", "date:date", "soil_moisture_pct:float"),
    key=("field_id", "date"),
    references=(("field_id", "fields"),),
)
PEST_OBSERVATIONS = Table(
    "pest_observations",
    _columns(
        "field_id:text",
        "farm_id:text",
        "observed_on:date",
        "pest:text",
        "severity:text",
    ),
    key=("field_id",),
    references=(("field_id", "fields"), ("farm_id", "farms")),
)

TABLES: tuple[Table, ...] = (
    FARMS,
    FIELDS,
    LIVESTOCK,
    WEATHER,
    SOIL_MOISTURE,
    PEST_OBSERVATIONS,
)
TABLE_NAMES: tuple[str, ...] = tuple(table.name for table in TABLES)
TABLE_BY_NAME: dict[str, Table] = {table.name: table for table in TABLES}
