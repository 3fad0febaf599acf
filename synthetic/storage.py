"""Write the synthetic tables to Parquet, SQLite and (optionally) PostgreSQL.

Parquet files are byte-for-byte reproducible: fixed column types, compression,
row-group size and file metadata, and no pandas index. The SQLite database and
the PostgreSQL schema are replaced as a whole, never appended to, so loading
the same data twice leaves the same rows.
"""

from __future__ import annotations

import io
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import structlog

from synthetic.errors import DatabaseLoadError, DataInputError, StorageError
from synthetic.schema import TABLES, Table

SQLITE_NAME = "synthetic.db"
POSTGRES_SCHEMA = "synthetic"
ROW_GROUP_SIZE = 1_000_000
COPY_BATCH_ROWS = 200_000
ARROW_TYPES = {
    "text": pa.string(),
    "float": pa.float64(),
    "int": pa.int32(),
    "date": pa.date32(),
}
SQLITE_TYPES = {"text": "TEXT", "float": "REAL", "int": "INTEGER", "date": "TEXT"}
POSTGRES_TYPES = {
    "text": "text",
    "float": "double precision",
    "int": "integer",
    "date": "date",
}

log = structlog.get_logger(__name__)


def parquet_path(data_dir: Path, table: Table | str) -> Path:
    """Where the Parquet file of ``table`` lives inside ``data_dir``."""
    name = table if isinstance(table, str) else table.name
    return Path(data_dir) / f"{name}.parquet"


def to_arrow(frames: Mapping[str, pd.DataFrame]) -> dict[str, pa.Table]:
    """Convert the frames to Arrow tables with the schema's exact types."""
    return {table.name: _arrow_table(frames[table.name], table) for table in TABLES}


def _arrow_table(frame: pd.DataFrame, table: Table) -> pa.Table:
    arrays = []
    for column in table.columns:
        array = pa.array(frame[column.name], from_pandas=True)
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        arrays.append(array.cast(ARROW_TYPES[column.kind]))
    metadata = {"yonca.table": table.name, "yonca.schema_version": "1"}
    return pa.Table.from_arrays(arrays, names=table.column_names, metadata=metadata)


def write_parquet(tables: Mapping[str, pa.Table], out_dir: Path) -> dict[str, Path]:
    """Write one Parquet file per table into ``out_dir``; return their paths."""
    out_dir = Path(out_dir)
    paths = {}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, table in tables.items():
            path = parquet_path(out_dir, name)
            partial = path.with_suffix(".parquet.partial")
            pq.write_table(
                table,
                partial,
                compression="zstd",
                compression_level=3,
                row_group_size=ROW_GROUP_SIZE,
            )
            os.replace(partial, path)
            paths[name] = path
    except (OSError, pa.ArrowException) as exc:
        raise StorageError(
            f"Could not write Parquet files into {out_dir}: {exc}. "
            "Check that the directory is writable and has free space."
        ) from exc
    return paths


def write_sqlite(tables: Mapping[str, pa.Table], out_dir: Path) -> Path:
    """Replace ``out_dir/synthetic.db`` with a database holding every table."""
    path = Path(out_dir) / SQLITE_NAME
    partial = path.with_suffix(".db.partial")
    partial.unlink(missing_ok=True)
    try:
        with sqlite3.connect(partial) as connection:
            # The file is renamed into place only when complete, so a crash
            # loses nothing that needs a journal; skipping it halves load time.
            connection.execute("PRAGMA journal_mode=OFF")
            connection.execute("PRAGMA synchronous=OFF")
            for table in TABLES:
                connection.execute(_create_sql(table, SQLITE_TYPES, table.name))
                _insert_sqlite(connection, table, tables[table.name])
        connection.close()
        os.replace(partial, path)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(
            f"Could not write the SQLite database {path}: {exc}. "
            "Check that the directory is writable and has free space."
        ) from exc
    return path


def _create_sql(table: Table, types: Mapping[str, str], qualified: str) -> str:
    columns = [f'"{c.name}" {types[c.kind]} NOT NULL' for c in table.columns]
    key = ", ".join(f'"{name}"' for name in table.key)
    columns.append(f"PRIMARY KEY ({key})")
    return f"CREATE TABLE {qualified} ({', '.join(columns)})"


def _insert_sqlite(
    connection: sqlite3.Connection, table: Table, data: pa.Table
) -> None:
    marks = ", ".join("?" for _ in table.columns)
    statement = f"INSERT INTO {table.name} VALUES ({marks})"
    for batch in data.to_batches(COPY_BATCH_ROWS):
        columns = [_sqlite_values(batch.column(i)) for i in range(batch.num_columns)]
        connection.executemany(statement, zip(*columns, strict=True))


def _sqlite_values(array: pa.Array) -> list:
    # SQLite has no date type; ISO text sorts and compares correctly.
    if pa.types.is_date(array.type):
        array = array.cast(pa.string())
    return array.to_pylist()


def postgres_conninfo(database_url: str | None) -> str | None:
    """The libpq URL for a PostgreSQL ``DATABASE_URL``, or None for other URLs."""
    if not database_url:
        return None
    parts = urlsplit(database_url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in {"postgresql", "postgres"}:
        return None
    return urlunsplit(parts._replace(scheme="postgresql"))


def load_postgres(
    tables: Mapping[str, pa.Table], conninfo: str, schema: str = POSTGRES_SCHEMA
) -> None:
    """Replace the tables of ``schema`` in one transaction, bulk-loaded with COPY."""
    import psycopg

    try:
        with (
            psycopg.connect(conninfo, connect_timeout=10) as connection,
            connection.transaction(),
        ):
            _replace_postgres_tables(connection, schema, tables)
    except psycopg.Error as exc:
        raise DatabaseLoadError(
            f"Could not load the synthetic tables into PostgreSQL schema "
            f"'{schema}': {exc}. Check DATABASE_URL and that the server is "
            "running; nothing was changed in the database."
        ) from exc
    log.info("synthetic.postgres_loaded", schema=schema, tables=len(tables))


def _replace_postgres_tables(
    connection, schema: str, tables: Mapping[str, pa.Table]
) -> None:
    from psycopg import sql

    target = sql.Identifier(schema)
    connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(target))
    for table in reversed(TABLES):
        name = sql.Identifier(table.name)
        connection.execute(
            sql.SQL("DROP TABLE IF EXISTS {}.{} CASCADE").format(target, name)
        )
    for table in TABLES:
        _copy_postgres(connection, schema, table, tables[table.name])


def _copy_postgres(connection, schema: str, table: Table, data: pa.Table) -> None:
    from psycopg import sql

    qualified = f'"{schema}"."{table.name}"'
    connection.execute(_create_sql(table, POSTGRES_TYPES, qualified))
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in table.column_names)
    statement = sql.SQL("COPY {}.{} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(schema), sql.Identifier(table.name), columns
    )
    options = pa_csv.WriteOptions(include_header=False)
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for batch in data.to_batches(COPY_BATCH_ROWS):
            buffer = io.BytesIO()
            pa_csv.write_csv(batch, buffer, options)
            copy.write(buffer.getvalue())


def read_tables(data_dir: Path) -> dict[str, pd.DataFrame]:
    """Read every table's Parquet file from ``data_dir``.

    Raises :class:`DataInputError` naming the directory or file that is missing
    or unreadable.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataInputError(
            f"Data directory {data_dir} does not exist. Generate the tables first "
            f"with `yonca synth --out {data_dir}` or `dvc repro synthesize`."
        )
    return {table.name: _read_table(data_dir, table) for table in TABLES}


def _read_table(data_dir: Path, table: Table) -> pd.DataFrame:
    path = parquet_path(data_dir, table)
    if not path.is_file():
        raise DataInputError(
            f"{path} is missing. Regenerate the tables with "
            f"`yonca synth --out {data_dir}` or `dvc repro synthesize`."
        )
    try:
        data = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise DataInputError(
            f"{path} cannot be read as Parquet ({exc}). Regenerate it with "
            f"`yonca synth --out {data_dir}`."
        ) from exc
    missing = sorted(set(table.column_names) - set(data.column_names))
    if missing:
        raise DataInputError(
            f"{path} lacks columns {', '.join(missing)}. It was written by another "
            f"version of the generator; regenerate it with `yonca synth`."
        )
    return data.to_pandas(date_as_object=False)
