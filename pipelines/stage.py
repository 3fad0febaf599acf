"""What every DVC stage module shares: setup, parameters and exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


class StageInputError(Exception):
    """An output of an earlier stage that this stage reads is missing."""


class StageFailedError(Exception):
    """The stage ran on usable input and its outcome is a failure."""


def run_stage(name: str, body: Callable[[dict[str, Any]], None]) -> None:
    """Run a stage as a program: exit with :func:`stage_exit_code`'s code."""
    code = stage_exit_code(name, body)
    if code != EXIT_OK:
        sys.exit(code)


def stage_exit_code(name: str, body: Callable[[dict[str, Any]], None]) -> int:
    """Set up logging and privacy, call ``body(params)``, map errors to codes.

    Errors of unusable input give 2, any other known error gives 1; both print
    one line naming the stage and the error's own explanation.
    """
    from evaluation.errors import EvaluationError, UnusableInputError
    from registry.errors import RegistryError
    from synthetic.errors import DataInputError, GenerationError, StorageError
    from yonca.logs import configure_logging
    from yonca.params import ParamsError, load_params
    from yonca.privacy import disable_telemetry

    unusable = (
        UnusableInputError,
        ParamsError,
        StageInputError,
        GenerationError,
        DataInputError,
    )
    failed = (EvaluationError, RegistryError, StorageError, StageFailedError)
    disable_telemetry()
    configure_logging()
    try:
        body(load_params())
    except unusable as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except failed as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as stable, indented JSON (sorted keys, trailing newline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")


def read_json(path: Path, produced_by: str) -> Any:
    """Read a previous stage's JSON output, saying which stage to run if absent."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StageInputError(
            f"{path} not found; run `dvc repro {produced_by}` first."
        ) from exc
