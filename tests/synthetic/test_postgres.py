"""Bulk loads into a real PostgreSQL replace the tables and are idempotent."""

from __future__ import annotations

import os
import uuid

import pytest

from synthetic import storage
from synthetic.errors import DatabaseLoadError
from synthetic.generator import generate
from synthetic.schema import TABLE_NAMES

psycopg = pytest.importorskip("psycopg")

URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _reachable() -> bool:
    try:
        psycopg.connect(URL, connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


pytestmark = pytest.mark.skipif(
    not _reachable(), reason=f"PostgreSQL at {URL} is unreachable"
)


@pytest.fixture
def schema():
    name = f"synthetic_test_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(URL) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _snapshot(schema: str) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row, in key order, per table."""
    snapshot = {}
    with psycopg.connect(URL) as connection:
        for name in TABLE_NAMES:
            count, digest = connection.execute(
                f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) "
                f'FROM "{schema}"."{name}" t'
            ).fetchone()
            snapshot[name] = (count, digest)
    return snapshot


def test_loading_the_same_seed_twice_leaves_the_same_rows(tables, schema):
    arrow = storage.to_arrow(tables)

    storage.load_postgres(arrow, URL, schema=schema)
    first = _snapshot(schema)
    storage.load_postgres(arrow, URL, schema=schema)

    assert _snapshot(schema) == first
    assert {name: rows for name, (rows, _) in first.items()} == {
        name: table.num_rows for name, table in arrow.items()
    }


def test_loading_another_seed_replaces_the_rows(tables, schema):
    storage.load_postgres(storage.to_arrow(tables), URL, schema=schema)
    other = storage.to_arrow(generate(8, 50, chunk_size=50))

    storage.load_postgres(other, URL, schema=schema)

    assert _snapshot(schema)["farms"][0] == 50


def test_values_keep_their_types(tables, schema):
    storage.load_postgres(storage.to_arrow(tables), URL, schema=schema)

    with psycopg.connect(URL) as connection:
        row = connection.execute(
            f'SELECT f.area_ha, f.sowing_date, g.region FROM "{schema}".fields f '
            f'JOIN "{schema}".farms g USING (farm_id) ORDER BY f.field_id LIMIT 1'
        ).fetchone()
    first = tables["fields"].sort_values("field_id").iloc[0]
    assert row[0] == pytest.approx(first["area_ha"])
    assert row[1] == first["sowing_date"].date()


def test_an_unreachable_server_is_reported_with_what_to_check(tables):
    with pytest.raises(DatabaseLoadError, match="Check DATABASE_URL"):
        storage.load_postgres(
            storage.to_arrow(tables), "postgresql://postgres@127.0.0.1:1/test"
        )
