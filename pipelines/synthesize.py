"""DVC stage ``synthesize``: seeded synthetic farm tables into ``out_dir``.

Reads ``synthetic:`` from params.yaml and writes one Parquet file per table and
``synthetic.db`` there; with a PostgreSQL ``DATABASE_URL`` it loads that too.
Exits 2 when the parameters are unusable, 1 when the tables cannot be written.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pipelines.stage import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE
from synthetic.errors import GenerationError, StorageError
from synthetic.generator import DEFAULT_CHUNK_SIZE, DEFAULT_SEASON
from synthetic.workflow import synthesize
from yonca.logs import configure_logging
from yonca.params import ParamsError, load_params, section
from yonca.privacy import disable_telemetry


def main() -> int:
    disable_telemetry()
    configure_logging()
    try:
        params = section(load_params(), "synthetic")
        result = synthesize(
            seed=int(params["seed"]),
            farms=int(params["farms"]),
            out_dir=Path(params["out_dir"]),
            chunk_size=int(params.get("chunk_size", DEFAULT_CHUNK_SIZE)),
            season=int(params.get("season", DEFAULT_SEASON)),
            workers=int(params.get("workers", 1)),
            database_url=os.environ.get("DATABASE_URL"),
        )
    except (ParamsError, KeyError, GenerationError) as exc:
        print(f"synthesize: unusable parameters: {_describe(exc)}", file=sys.stderr)
        return EXIT_UNUSABLE
    except StorageError as exc:
        print(f"synthesize: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(result.summary_line())
    return EXIT_OK


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"params.yaml lacks synthetic.{exc.args[0]}; add it."
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
