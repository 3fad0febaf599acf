"""Shared helpers for the deployment tests: paths and the project's tools."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
SCRIPTS = REPO / "scripts"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """The path of a command-line tool from the venv or PATH, else skip."""
    candidate = BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (see requirements.lock)")
    return found
