"""Exceptions raised by the synthetic data package.

    SyntheticError
    ├── GenerationError       the generator was asked for something impossible
    │   └── ParameterError    one named parameter is unusable
    ├── StorageError          tables could not be written
    │   └── DatabaseLoadError PostgreSQL refused the bulk load
    ├── DataInputError        stored tables are missing or unreadable
    └── DataValidationError   the tables break one or more expectations

Third-party errors (pyarrow, sqlite3, psycopg, Great Expectations) are
translated into these at the boundary, keeping the original as the cause.
"""

from __future__ import annotations

from typing import Any


class SyntheticError(Exception):
    """Base class of every error raised by :mod:`synthetic`."""


class GenerationError(SyntheticError):
    """The requested farms, seed, season or chunk size cannot be generated."""


class ParameterError(GenerationError):
    """One parameter is unusable; ``parameter`` names it as params.yaml spells it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class StorageError(SyntheticError):
    """Parquet files or the SQLite database could not be written."""


class DatabaseLoadError(StorageError):
    """PostgreSQL could not be reached or refused the bulk load."""


class DataInputError(SyntheticError):
    """A table to validate is missing or cannot be read."""


class DataValidationError(SyntheticError):
    """The tables break expectations; ``report`` holds every outcome."""

    def __init__(self, message: str, report: Any) -> None:
        super().__init__(message)
        self.report = report
