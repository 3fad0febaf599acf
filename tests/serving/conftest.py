"""A real SQLite registry with tiny GGUF versions, and a live server over it."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from registry.promotion import promote
from registry.store import connect, ensure_experiment
from registry.versions import CandidateFacts, register_candidate
from serving.app import create_app
from serving.settings import ServingSettings
from tests.support.servers import free_port, running_server
from tests.support.tiny_gguf import write_tiny_gguf
from yonca.hashing import sha256_file

MODEL = "yonca-agri"
GOLDEN_SHA = "9" * 64
FACTS = CandidateFacts(base_model="tiny-random", quantization="F32")


@pytest.fixture(scope="session")
def tiny_ggufs(tmp_path_factory) -> list[Path]:
    """Two tiny random models that differ in their weights and their sha256."""
    folder = tmp_path_factory.mktemp("serving-models")
    return [write_tiny_gguf(folder / f"tiny-{seed}.gguf", seed=seed) for seed in (0, 1)]


class Registry:
    """The registry as the pipeline leaves it: evaluated versions, gated alias."""

    def __init__(self, tracking_uri: str, artifacts: Path) -> None:
        self.tracking_uri = tracking_uri
        self.client = connect(tracking_uri)
        self.experiment_id = ensure_experiment(
            self.client, "serving-test", str(artifacts)
        )

    def register(self, gguf: Path, *, gate_passed: bool = True, score: float = 0.9):
        run_id = self.client.create_run(self.experiment_id).info.run_id
        record = _record(gguf, gate_passed, score)
        return register_candidate(self.client, MODEL, gguf, record, run_id, FACTS)

    def promote(self, version) -> None:
        decision = promote(
            self.client,
            MODEL,
            version,
            alias="production",
            threshold=0.0,
            current_golden_sha256=GOLDEN_SHA,
        )
        assert decision.promoted, decision.line()

    def force_alias(self, version) -> None:
        """Move the alias without the gate, as an edit in the MLflow UI would."""
        self.client.set_registered_model_alias(MODEL, "production", version.version)


def _record(gguf: Path, gate_passed: bool, score: float) -> dict:
    return {
        "model": {
            "sha256": sha256_file(gguf),
            "size_bytes": gguf.stat().st_size,
            "name": "tiny-random-llama",
            "quantization": "F32",
        },
        "summary": {"golden_score": score},
        "golden_set": {"sha256": GOLDEN_SHA, "cases_evaluated": 3},
        "prompt": {"sha256": "7" * 64},
        "gate": {"passed": gate_passed, "threshold": 0.85, "reasons": ["score"]},
    }


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory) -> Path:
    """An MLflow SQLite store with its tables created, to copy per test.

    Creating the tables takes seconds; copying the file takes milliseconds.
    """
    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    connect(f"sqlite:///{path}")
    return path


@pytest.fixture
def registry(tracking_uri, tmp_path, empty_store) -> Registry:
    shutil.copyfile(empty_store, tracking_uri.removeprefix("sqlite:///"))
    return Registry(tracking_uri, tmp_path / "artifacts")


@pytest.fixture(scope="module")
def vetted_server(tmp_path_factory, tiny_ggufs, empty_store) -> Iterator[str]:
    """One server for a whole module, answering with a promoted tiny model."""
    folder = tmp_path_factory.mktemp("vetted")
    shutil.copyfile(empty_store, folder / "mlflow.db")
    registry = Registry(f"sqlite:///{folder / 'mlflow.db'}", folder / "artifacts")
    registry.promote(registry.register(tiny_ggufs[0]))
    settings = make_settings(registry.tracking_uri, folder / "cache")
    with running_server(create_app(settings)) as base_url:
        assert wait_until_settled(base_url).status_code == 200
        yield base_url


@pytest.fixture
def unreachable_uri(monkeypatch) -> str:
    """A tracking server address where nothing listens; MLflow fails at once."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def settings(registry, tmp_path) -> ServingSettings:
    return make_settings(registry.tracking_uri, tmp_path / "cache")


def make_settings(tracking_uri: str, cache: Path, **overrides) -> ServingSettings:
    values = {
        "mlflow_tracking_uri": tracking_uri,
        "model_cache_dir": cache,
        "model_poll_interval_seconds": 0,
        "llm_context_size": 512,
        "llm_max_tokens": 256,
        "llm_temperature": 0.0,
        "llama_n_threads": 1,
        # Tests fire requests in bursts from one address; the limit has tests
        # of its own.
        "rate_limit_requests_per_minute": 60_000,
        "rate_limit_burst": 10_000,
        **overrides,
    }
    return ServingSettings(_env_file=None, **values)


JWT_SECRET = "a-test-secret-that-is-long-enough-for-hs256"


def make_token(
    subject: str = "farmer-1",
    *,
    expires_in: float = 300,
    secret: str = JWT_SECRET,
    algorithm: str = "HS256",
    headers: dict | None = None,
) -> str:
    """A signed bearer token for ``subject``, expiring ``expires_in`` from now."""
    claims = {"sub": subject, "exp": int(time.time() + expires_in)}
    return jwt.encode(claims, secret, algorithm=algorithm, headers=headers)


def wait_until_settled(base_url: str, timeout: float = 20) -> httpx.Response:
    """/ready once the first load attempt is over (a refresh waits for it)."""
    response = httpx.post(f"{base_url}/admin/model/refresh", timeout=timeout)
    assert response.status_code < 500 or response.status_code == 503
    return httpx.get(f"{base_url}/ready", timeout=timeout)


@pytest.fixture
def serve(settings):
    """Start a server from ``settings`` (or others) and stop it after the test."""
    stack = []

    def start(custom: ServingSettings | None = None, manager=None) -> str:
        context = running_server(create_app(custom or settings, manager))
        stack.append(context)
        return context.__enter__()

    yield start
    for context in reversed(stack):
        context.__exit__(None, None, None)
