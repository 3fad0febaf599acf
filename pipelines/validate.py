"""DVC stage ``validate``: run the data expectations on the synthetic tables.

Writes ``reports/validation/summary.json`` (no timestamps, so equal data gives
an equal file; later stages should depend on it) and Great Expectations' Data
Docs under ``reports/validation/docs/`` (which do carry run times). Exits 1
with the summary on stderr when an expectation fails, and 2 when the tables are
missing or unreadable.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipelines.stage import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE
from synthetic.errors import DataInputError
from synthetic.workflow import validate_directory, write_report
from yonca.logs import configure_logging
from yonca.params import ParamsError, load_params, section
from yonca.privacy import disable_telemetry

REPORT_DIR = Path("reports/validation")
SUMMARY_PATH = REPORT_DIR / "summary.json"
DOCS_DIR = REPORT_DIR / "docs"


def main() -> int:
    disable_telemetry()
    configure_logging()
    try:
        data_dir = Path(section(load_params(), "synthetic")["out_dir"])
        report = validate_directory(data_dir, raise_on_failure=False, docs_dir=DOCS_DIR)
    except (ParamsError, KeyError) as exc:
        print(f"validate: unusable parameters: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except DataInputError as exc:
        print(f"validate: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE

    write_report(report, SUMMARY_PATH)
    if not report.success:
        print(report.summary(), file=sys.stderr)
        return EXIT_FAILED
    print(f"{report.summary()} Summary written to {SUMMARY_PATH}.")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
