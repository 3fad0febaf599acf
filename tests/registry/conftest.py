"""A throwaway registry: params.yaml, golden set and SQLite MLflow store in tmp.

Versions are registered from fabricated evaluation records (the tiny GGUF as
the artifact, scores chosen by the test), so no test waits for llama.cpp.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from registry.config import load_config
from registry.store import connect, ensure_experiment
from registry.tracking import log_evaluation
from registry.versions import CandidateFacts, register_candidate
from tests.conftest import REPO
from yonca.hashing import sha256_file

MODEL = "yonca-agri"
FACTS = CandidateFacts(base_model="tiny-random", quantization="F32")
CATEGORIES = {"irrigation": 0.9, "pests": 0.9}


@dataclass
class Registry:
    """The store, its settings and the files a test may tamper with."""

    client: object
    experiment_id: str
    golden: Path
    gguf: Path

    @property
    def config(self):
        return load_config()

    def register(self, score=0.9, categories=None, gate=None, golden_sha=None):
        """Register the tiny GGUF as a new version with the given evaluation."""
        record = fake_record(
            self.gguf,
            golden_sha or sha256_file(self.golden),
            score,
            categories or CATEGORIES,
            passed=score >= 0.85 if gate is None else gate,
        )
        run_id = log_evaluation(self.client, self.experiment_id, record)
        return register_candidate(
            self.client, MODEL, self.gguf, record, run_id, FACTS
        ).version

    def alias(self, name="production") -> str | None:
        """The version ``name`` points at now, or None."""
        aliases = self.client.get_registered_model(MODEL).aliases
        return aliases.get(name)


def fake_record(gguf: Path, golden_sha: str, score: float, categories, passed):
    """An evaluation record as the runner writes it, with chosen scores."""
    row = {"id": "irr-en-001", "category": "irrigation", "language": "en"}
    return {
        "model": {
            "path": str(gguf),
            "sha256": sha256_file(gguf),
            "size_bytes": gguf.stat().st_size,
            "name": "tiny",
            "quantization": "F32",
        },
        "golden_set": {
            "path": "golden.jsonl",
            "sha256": golden_sha,
            "cases_evaluated": 2,
        },
        "prompt": {"path": "prompt.yaml", "sha256": "p" * 64},
        "generation": {"max_tokens": 8, "seed": 42},
        "packages": {"python": "3.11"},
        "summary": {
            "golden_score": score,
            "by_category": dict(categories),
            "by_language": {"en": score},
            "tokens_per_second": 50.0,
            "seconds_per_case": 0.1,
        },
        "gate": {
            "passed": passed,
            "threshold": 0.85,
            "reasons": [] if passed else ["below the bar"],
        },
        "results": [{**row, "score": score}],
    }


def write_params(folder: Path, golden: Path) -> Path:
    """params.yaml with the registry settings the commands read."""
    params = {
        "evaluation": {"dataset": str(golden)},
        "gate": {"threshold": 0.85, "max_category_drop": 0.05},
        "mlflow": {
            "tracking_uri": "sqlite:///unused.db",
            "model_name": MODEL,
            "alias": "production",
        },
    }
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory) -> Path:
    """A migrated, empty SQLite store; copying it skips the schema migrations."""
    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    connect(f"sqlite:///{path}")
    return path


@pytest.fixture
def registry(tracking_uri, empty_store, tmp_path, monkeypatch, tiny_gguf) -> Registry:
    """An empty registry whose params.yaml is in the working directory."""
    shutil.copy(empty_store, tracking_uri.removeprefix("sqlite:///"))
    golden = shutil.copy(REPO / "golden" / "dataset.jsonl", tmp_path / "golden.jsonl")
    write_params(tmp_path, Path(golden))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("YONCA_ACTOR", "test-engineer")
    monkeypatch.setenv("COLUMNS", "250")
    client = connect(tracking_uri)
    experiment_id = ensure_experiment(client, "golden-test", str(tmp_path / "art"))
    gguf = Path(shutil.copy(tiny_gguf, tmp_path / "tiny.gguf"))
    return Registry(client, experiment_id, Path(golden), gguf)
