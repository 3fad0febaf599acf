"""DVC stage ``synthesize``: seeded synthetic farm tables into ``out_dir``.

Reads ``synthetic:`` from params.yaml and writes one Parquet file per table and
``synthetic.db`` there; with a PostgreSQL ``DATABASE_URL`` it loads that too.
Exits 2 when the parameters are unusable, 1 when the tables cannot be written.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from pipelines.stage import stage_exit_code


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
    result = synthesize(
        seed=settings.seed,
        farms=settings.farms,
        out_dir=settings.out_dir,
        chunk_size=settings.chunk_size,
        season=settings.season,
        workers=settings.workers,
        database_url=os.environ.get("DATABASE_URL"),
        region_weights=settings.region_weights,
    )
    print(result.summary_line())


def main() -> int:
    return stage_exit_code("synthesize", synthesize_farms)


if __name__ == "__main__":
    sys.exit(main())
