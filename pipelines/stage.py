"""What every DVC stage module shares: setup, parameters, exit codes, outputs.

DVC keeps a stage's outputs in place while it runs (they are marked
``persist`` in dvc.yaml), so a stage that fails must not have touched them:
each file is written beside its final path and renamed over it, and a folder
is built as a sibling and swapped in whole once everything in it is written.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
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
    """Write ``data`` as stable, indented JSON (sorted keys, trailing newline).

    The file is replaced in one step: a failure leaves the previous one whole.
    """
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    write_text(path, text + "\n")


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to a draft beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(path.name + ".partial")
    try:
        draft.write_text(text, encoding="utf-8")
        os.replace(draft, path)
    except BaseException:
        draft.unlink(missing_ok=True)
        raise


@contextmanager
def replacing_folder(folder: Path) -> Iterator[Path]:
    """Yield an empty sibling of ``folder`` that replaces it when the block ends.

    If the block raises, the sibling and any parent made for it are removed
    and ``folder`` stays as it was, so no file of a failed run mixes with the
    previous outputs and none of those outputs is lost. The swap is two
    renames; a run killed between them leaves the previous folder under its
    retired name, and the next call puts it back before starting.
    """
    staging = folder.with_name(f".{folder.name}.staging")
    retired = folder.with_name(f".{folder.name}.retired")
    if retired.exists() and not folder.exists():
        retired.rename(folder)
    for leftover in (staging, retired):
        shutil.rmtree(leftover, ignore_errors=True)

    made = [parent for parent in staging.parents if not parent.exists()]
    staging.mkdir(parents=True)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for parent in made:
            with suppress(OSError):
                parent.rmdir()
        raise

    if folder.exists():
        folder.rename(retired)
    staging.rename(folder)
    shutil.rmtree(retired, ignore_errors=True)


def read_json(path: Path, produced_by: str) -> Any:
    """Read a previous stage's JSON output, saying which stage to run if absent."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StageInputError(
            f"{path} not found; run `dvc repro {produced_by}` first."
        ) from exc
