"""Seeded synthetic farms of Azerbaijan: generation, storage and expectations.

``generate`` builds the tables in memory; :mod:`synthetic.workflow` writes them
(Parquet, SQLite, PostgreSQL) and validates them; :mod:`synthetic.cli` exposes
both as commands.
"""

from synthetic.generator import generate
from synthetic.schema import TABLE_NAMES

__all__ = ["TABLE_NAMES", "generate"]
