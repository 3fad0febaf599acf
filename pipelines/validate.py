"""DVC stage ``validate``: run the data expectations on the synthetic tables.

Writes ``reports/validation/summary.json`` (no timestamps, so equal data gives
an equal file; later stages should depend on it) and Great Expectations' Data
Docs under ``reports/validation/docs/`` (which do carry run times). The
folder is replaced whole once the report is complete; a run that stops before
(missing or unreadable tables, bad parameters) leaves the previous report as
it was. Exits 1 with the summary on stderr when an expectation fails (the new
report, which describes the data as it is now, is kept), and 2 when the tables
are missing or unreadable.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pipelines.stage import StageFailedError, replacing_folder, stage_exit_code

REPORT_DIR = Path("reports/validation")
SUMMARY_PATH = REPORT_DIR / "summary.json"
DOCS_DIR = REPORT_DIR / "docs"


def validate_tables(params: dict[str, Any]) -> None:
    from synthetic.workflow import validate_directory, write_report
    from yonca.params import ParamsError, section

    out_dir = section(params, "synthetic").get("out_dir")
    if not out_dir:
        raise ParamsError(
            "synthetic.out_dir is missing in params.yaml; set it to the folder "
            "the synthesize stage writes (data/synthetic by default)"
        )
    with replacing_folder(REPORT_DIR) as staging:
        report = validate_directory(
            Path(out_dir), raise_on_failure=False, docs_dir=staging / DOCS_DIR.name
        )
        write_report(report, staging / SUMMARY_PATH.name)
    if not report.success:
        raise StageFailedError(report.summary())
    print(f"{report.summary()} Summary written to {SUMMARY_PATH}.")


def main() -> int:
    return stage_exit_code("validate", validate_tables)


if __name__ == "__main__":
    sys.exit(main())
