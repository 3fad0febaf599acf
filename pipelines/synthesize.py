"""DVC stage ``synthesize``: seeded synthetic farm tables into ``out_dir``.

Reads ``synthetic:`` from params.yaml and writes one Parquet file per table and
``synthetic.db`` there; with a PostgreSQL ``DATABASE_URL`` it loads that too.
Exits 2 when the parameters are unusable, 1 when the tables cannot be written.
"""

from __future__ import annotations

import os
import sys

from pipelines.stage import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE
from synthetic.errors import GenerationError, ParameterError, StorageError
from synthetic.parameters import from_section
from synthetic.workflow import synthesize
from yonca.logs import configure_logging
from yonca.params import ParamsError, load_params, section
from yonca.privacy import disable_telemetry


def main() -> int:
    disable_telemetry()
    configure_logging()
    try:
        params = from_section(section(load_params(), "synthetic"))
        result = synthesize(
            seed=params.seed,
            farms=params.farms,
            out_dir=params.out_dir,
            chunk_size=params.chunk_size,
            season=params.season,
            workers=params.workers,
            database_url=os.environ.get("DATABASE_URL"),
            region_weights=params.region_weights,
        )
    except ParameterError as exc:
        print(
            f"synthesize: unusable parameter synthetic.{exc.parameter} in "
            f"params.yaml: {exc}",
            file=sys.stderr,
        )
        return EXIT_UNUSABLE
    except (ParamsError, GenerationError) as exc:
        print(f"synthesize: unusable parameters: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except StorageError as exc:
        print(f"synthesize: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(result.summary_line())
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
