"""Scratch copies of the project for tests that run the whole main job."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROJECT_FILES = [
    "dvc.yaml",
    "params.yaml",
    ".dvcignore",
    "pyproject.toml",
    "pipelines",
    "synthetic",
    "evaluation",
    "registry",
    "serving",
    "yonca",
    "golden",
    "prompts",
    "scripts",
]


def copy_project(root: Path, **overrides: dict) -> Path:
    """Copy the pipeline's files into ``root`` as a new git + DVC repository.

    Each keyword names a params.yaml section whose keys it overrides.
    """
    root.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        source = REPO / name
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__")
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy(source, root / name)

    params = yaml.safe_load((root / "params.yaml").read_text())
    for section, values in overrides.items():
        params[section].update(values)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    for command in (["git", "init", "-q"], [str(BIN / "dvc"), "init", "-q"]):
        result = run(command, cwd=root)
        assert result.returncode == 0, result.stderr
    return root


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run a command in the scratch project with the venv first on PATH."""
    base = {
        "PATH": f"{BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(cwd),
        "PYTHONPATH": str(cwd),
        "DVC_NO_ANALYTICS": "1",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    return subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1200,
        env={**base, **(env or {})},
    )
