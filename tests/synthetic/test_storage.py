"""Parquet and SQLite outputs round-trip and are replaced, not appended to."""

from __future__ import annotations

import sqlite3

import pytest

from synthetic import storage
from synthetic.errors import DataInputError
from synthetic.schema import TABLE_NAMES


@pytest.fixture
def arrow_tables(tables):
    return storage.to_arrow(tables)


def _sqlite_counts(path):
    with sqlite3.connect(path) as connection:
        return {
            name: connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            for name in TABLE_NAMES
        }


def test_parquet_round_trip_keeps_values(tables, arrow_tables, tmp_path):
    storage.write_parquet(arrow_tables, tmp_path)

    back = storage.read_tables(tmp_path)

    assert list(back["fields"].columns) == list(tables["fields"].columns)
    assert back["fields"]["field_id"].tolist() == tables["fields"]["field_id"].tolist()
    assert (
        back["fields"]["sowing_date"].to_numpy() == tables["fields"]["sowing_date"]
    ).all()
    assert back["weather"]["temp_c"].tolist() == tables["weather"]["temp_c"].tolist()


def test_sqlite_is_replaced_on_every_write(arrow_tables, tmp_path):
    storage.write_sqlite(arrow_tables, tmp_path)
    path = storage.write_sqlite(arrow_tables, tmp_path)

    counts = _sqlite_counts(path)
    assert counts == {name: t.num_rows for name, t in arrow_tables.items()}
    with sqlite3.connect(path) as connection:
        first = connection.execute(
            "SELECT sowing_date FROM fields ORDER BY field_id LIMIT 1"
        ).fetchone()[0]
    assert len(first) == 10 and first[4] == "-"


def test_reading_a_missing_table_names_the_file(arrow_tables, tmp_path):
    storage.write_parquet(arrow_tables, tmp_path)
    (tmp_path / "livestock.parquet").unlink()

    with pytest.raises(DataInputError, match="livestock.parquet is missing"):
        storage.read_tables(tmp_path)


def test_reading_a_damaged_table_names_the_file(arrow_tables, tmp_path):
    storage.write_parquet(arrow_tables, tmp_path)
    (tmp_path / "farms.parquet").write_bytes(b"not parquet")

    with pytest.raises(DataInputError, match="farms.parquet cannot be read"):
        storage.read_tables(tmp_path)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+psycopg://u@h:5432/db", "postgresql://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql://u@h/db"),
        ("sqlite:///x.db", None),
        (None, None),
    ],
)
def test_only_postgresql_urls_trigger_a_database_load(url, expected):
    assert storage.postgres_conninfo(url) == expected


def test_soil_readings_round_trip_through_parquet_and_sqlite(
    tables, arrow_tables, tmp_path
):
    storage.write_parquet(arrow_tables, tmp_path)
    path = storage.write_sqlite(arrow_tables, tmp_path)

    back = storage.read_tables(tmp_path)["soil_moisture"]
    written = tables["soil_moisture"]
    assert back["field_id"].tolist() == written["field_id"].tolist()
    assert back["date"].dt.date.tolist() == written["date"].tolist()
    assert back["soil_moisture_pct"].tolist() == written["soil_moisture_pct"].tolist()
    with sqlite3.connect(path) as connection:
        first = connection.execute(
            "SELECT field_id, date FROM soil_moisture ORDER BY field_id, date LIMIT 1"
        ).fetchone()
    earliest = written.sort_values(["field_id", "date"]).iloc[0]
    assert first == (earliest["field_id"], str(earliest["date"]))
