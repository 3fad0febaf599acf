"""The two things people do with synthetic data: make it, and check it.

The CLI and the DVC stage modules both call these functions, so a table made
by hand and one made by ``dvc repro`` go through the same steps.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from synthetic import storage
from synthetic.expectations import ValidationReport, validate
from synthetic.generator import generate
from synthetic.parameters import DEFAULT_CHUNK_SIZE, DEFAULT_SEASON

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SynthesisResult:
    """What was written where, and how many rows each table holds."""

    out_dir: Path
    rows: dict[str, int]
    files: dict[str, Path]
    postgres_schema: str | None = None
    targets: list[str] = field(default_factory=lambda: ["Parquet", "SQLite"])

    def summary_line(self) -> str:
        counts = ", ".join(f"{name}={count}" for name, count in self.rows.items())
        return (
            f"Wrote {len(self.rows)} tables to {self.out_dir} "
            f"({' + '.join(self.targets)}): {counts}"
        )


def synthesize(
    seed: int,
    farms: int,
    out_dir: Path,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    season: int = DEFAULT_SEASON,
    workers: int = 1,
    database_url: str | None = None,
    region_weights: Mapping[str, float] | None = None,
) -> SynthesisResult:
    """Generate the tables and write them to Parquet, SQLite and maybe PostgreSQL.

    PostgreSQL is loaded only when ``database_url`` is a PostgreSQL URL.
    """
    out_dir = Path(out_dir)
    frames = generate(
        seed,
        farms,
        chunk_size=chunk_size,
        season=season,
        workers=workers,
        region_weights=region_weights,
    )
    tables = storage.to_arrow(frames)
    files = storage.write_parquet(tables, out_dir)
    files["sqlite"] = storage.write_sqlite(tables, out_dir)
    targets = ["Parquet", "SQLite"]

    conninfo = storage.postgres_conninfo(database_url)
    schema = None
    if conninfo:
        storage.load_postgres(tables, conninfo)
        schema = storage.POSTGRES_SCHEMA
        targets.append(f"PostgreSQL schema {schema}")
    rows = {name: table.num_rows for name, table in tables.items()}
    log.info("synthetic.written", out_dir=str(out_dir), seed=seed, rows=rows)
    return SynthesisResult(out_dir, rows, files, schema, targets)


def validate_directory(
    data_dir: Path, raise_on_failure: bool = True, docs_dir: Path | None = None
) -> ValidationReport:
    """Read the Parquet tables in ``data_dir`` and run every expectation on them.

    With ``docs_dir``, Great Expectations' Data Docs are written there too.
    """
    tables = storage.read_tables(Path(data_dir))
    return validate(tables, raise_on_failure, docs_dir)


def write_report(report: ValidationReport, path: Path) -> Path:
    """Write the report as JSON with sorted keys; equal data gives an equal file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report.to_dict(), indent=2, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path
