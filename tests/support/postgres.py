"""Scratch databases on the development machines' PostgreSQL server.

The server is the one at 127.0.0.1:5432 with trust auth for user postgres;
``YONCA_TEST_POSTGRES`` names another. Each scratch database gets a random
name and is dropped at the end, so tests may run beside each other.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

SERVER = os.environ.get("YONCA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
POSTGRES_UNAVAILABLE = (
    f"needs a PostgreSQL server at {SERVER} (start it with `make services`, or "
    "point YONCA_TEST_POSTGRES at one)"
)


def admin(sql: str) -> None:
    """Run one statement on the server's ``postgres`` database, autocommitted."""
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def postgres_answers() -> bool:
    """Whether the server accepts a connection and a query right now."""
    try:
        admin("SELECT 1")
    except Exception:  # any failure means the tests that need it cannot run
        return False
    return True


def sqlalchemy_uri(database: str) -> str:
    """The URI MLflow is given for ``database``: SQLAlchemy's psycopg 3 driver."""
    server = SERVER.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{server}/{database}"


def drop_database(database: str) -> None:
    """Drop ``database``, closing whatever connections it still has."""
    admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """Create an empty database named after ``prefix``; drop it afterwards."""
    database = f"{prefix}_{secrets.token_hex(4)}"
    admin(f'CREATE DATABASE "{database}"')
    try:
        yield database
    finally:
        drop_database(database)
