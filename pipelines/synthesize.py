"""DVC stage ``synthesize``: seeded synthetic farm tables into ``out_dir``.

Reads ``synthetic:`` from params.yaml and writes one Parquet file per table and
``synthetic.db`` there; with a PostgreSQL ``DATABASE_URL`` it loads that too.
The folder is replaced whole, and only once every table is written, so a
failed run leaves the previous tables as they were. Exits 2 when the
parameters are unusable, 1 when the tables cannot be written.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

from pipelines.stage import replacing_folder, stage_exit_code


def synthesize_farms(params: dict[str, Any]) -> None:
    from synthetic.errors import ParameterError
    from synthetic.parameters import from_section
    from synthetic.workflow import synthesize
    from yonca.params import ParamsError, section

    try:
        settings = from_section(section(params, "synthetic"))
    except ParameterError as exc:
        raise ParamsError(
            f"unusable parameter synthetic.{exc.parameter} in params.yaml: {exc}"
        ) from exc
    out_dir = settings.out_dir
    _refuse_foreign_files(out_dir)
    with replacing_folder(out_dir) as staging:
        result = synthesize(
            seed=settings.seed,
            farms=settings.farms,
            out_dir=staging,
            chunk_size=settings.chunk_size,
            season=settings.season,
            workers=settings.workers,
            database_url=os.environ.get("DATABASE_URL"),
            region_weights=settings.region_weights,
        )
    files = {name: out_dir / path.name for name, path in result.files.items()}
    print(dataclasses.replace(result, out_dir=out_dir, files=files).summary_line())


def _refuse_foreign_files(out_dir: Path) -> None:
    """Raise ParamsError if ``out_dir`` holds files this stage does not write.

    The stage replaces the folder whole; pointed at a folder of other files
    (the repository root, the golden set) it would delete them.
    """
    from synthetic.schema import TABLE_NAMES
    from synthetic.storage import SQLITE_NAME
    from yonca.params import ParamsError

    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise ParamsError(
            f"synthetic.out_dir in params.yaml is {out_dir}, which is a file; "
            "point it at a folder of its own (data/synthetic by default)."
        )

    written = {f"{name}.parquet" for name in TABLE_NAMES} | {SQLITE_NAME}
    written |= {f"{name}.partial" for name in written}
    foreign = sorted({entry.name for entry in out_dir.iterdir()} - written)
    if foreign:
        raise ParamsError(
            f"synthetic.out_dir in params.yaml is {out_dir}, which holds files "
            f"the synthesize stage did not write ({', '.join(foreign[:5])}); the "
            "stage replaces that folder whole, so point synthetic.out_dir at a "
            "folder of its own (data/synthetic by default)."
        )


def main() -> int:
    return stage_exit_code("synthesize", synthesize_farms)


if __name__ == "__main__":
    sys.exit(main())
