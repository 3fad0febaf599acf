"""A throwaway registry: params.yaml, golden set and SQLite MLflow store in tmp.

Versions are registered from fabricated evaluation records (the tiny GGUF as
the artifact, scores chosen by the test), so no test waits for llama.cpp.
``served_registry`` is the same on a real ``mlflow server`` backed by
PostgreSQL, as the development machines run it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from registry.config import load_config
from registry.store import connect, ensure_experiment
from registry.tracking import log_evaluation
from registry.versions import CandidateFacts, register_candidate
from tests.conftest import REPO
from tests.support.mlflow_server import running_mlflow_server
from tests.support.postgres import (
    POSTGRES_UNAVAILABLE,
    postgres_answers,
    scratch_database,
    sqlalchemy_uri,
)
from tests.support.tiny_gguf import write_tiny_gguf
from yonca.hashing import sha256_file

MODEL = "yonca-agri"
BIN = Path(sys.executable).parent
FACTS = CandidateFacts(base_model="tiny-random", quantization="F32")
CATEGORIES = {"irrigation": 0.9, "pests": 0.9}


@dataclass
class Registry:
    """The store, its settings and the files a test may tamper with."""

    client: object
    experiment_id: str
    golden: Path
    gguf: Path
    model_name: str = MODEL

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
            self.client, self.model_name, self.gguf, record, run_id, FACTS
        ).version

    def alias(self, name="production") -> str | None:
        """The version ``name`` points at now, or None."""
        aliases = self.client.get_registered_model(self.model_name).aliases
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


def write_params(
    folder: Path,
    golden: Path,
    model_name: str = MODEL,
    tracking_uri: str = "sqlite:///unused.db",
) -> Path:
    """params.yaml with the registry settings the commands read."""
    params = {
        "evaluation": {"dataset": str(golden)},
        "gate": {"threshold": 0.85, "max_category_drop": 0.05},
        "mlflow": {
            "tracking_uri": tracking_uri,
            "model_name": model_name,
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


@dataclass(frozen=True)
class ServerStore:
    """A running ``mlflow server`` on PostgreSQL and its artifact folder."""

    url: str
    artifacts: Path


@pytest.fixture(scope="session")
def postgres_mlflow(tmp_path_factory) -> Iterator[ServerStore]:
    """One ``mlflow server`` on a scratch PostgreSQL database for the session.

    Tests share it by each registering its own model name; the database is
    dropped when the session ends.
    """
    if not postgres_answers():
        pytest.skip(POSTGRES_UNAVAILABLE)
    folder = tmp_path_factory.mktemp("postgres-mlflow")
    artifacts = folder / "artifacts"
    with (
        scratch_database("yonca_registry_test") as database,
        running_mlflow_server(
            sqlalchemy_uri(database), artifacts, folder / "server.log"
        ) as url,
    ):
        yield ServerStore(url, artifacts)


@dataclass(kw_only=True)
class ServedRegistry(Registry):
    """A model of its own on the shared server, with a folder for the CLI."""

    url: str
    folder: Path
    artifacts: Path

    def yonca(self, *args: str) -> subprocess.CompletedProcess:
        """Run the installed ``yonca`` command in this registry's folder."""
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": self.url,
            "YONCA_ACTOR": "test-engineer",
            "COLUMNS": "250",
        }
        return subprocess.run(
            [str(BIN / "yonca"), *args],
            cwd=self.folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def promoted(self, score: float = 0.9) -> str:
        """Register a version scoring ``score`` and promote it with the CLI."""
        version = self.register(score=score)
        result = self.yonca("promote", "--version", version)
        assert result.returncode == 0, result.stdout + result.stderr
        return version

    def history(self) -> str:
        """What ``yonca registry history`` prints."""
        result = self.yonca("registry", "history")
        assert result.returncode == 0, result.stderr
        return result.stdout

    def stored_copies(self) -> list[Path]:
        """This registry's GGUF files as the server stores them."""
        digest = sha256_file(self.gguf)
        found = self.artifacts.rglob("*.gguf")
        return [path for path in found if sha256_file(path) == digest]


@pytest.fixture
def served_registry(postgres_mlflow, tmp_path) -> ServedRegistry:
    """An empty model on the PostgreSQL-backed server, with its own GGUF.

    The GGUF gets a random seed so that its stored copies can be told apart
    from every other test's by their sha256.
    """
    golden = Path(shutil.copy(REPO / "golden" / "dataset.jsonl", tmp_path))
    model_name = f"{MODEL}-{secrets.token_hex(4)}"
    write_params(tmp_path, golden, model_name, postgres_mlflow.url)
    client = connect(postgres_mlflow.url)
    gguf = write_tiny_gguf(tmp_path / "tiny.gguf", seed=secrets.randbelow(2**32))
    return ServedRegistry(
        client,
        ensure_experiment(client, "golden-server-test", None),
        golden,
        gguf,
        model_name,
        url=postgres_mlflow.url,
        folder=tmp_path,
        artifacts=postgres_mlflow.artifacts,
    )
