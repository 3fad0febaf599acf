"""Register evaluated candidates in a real SQLite MLflow store and promote them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evaluation.backends import GenerationParams
from evaluation.runner import evaluate
from registry.promotion import promote
from registry.store import connect, ensure_experiment
from registry.tracking import log_evaluation
from registry.versions import (
    CandidateFacts,
    get_alias_version,
    local_artifact,
    register_candidate,
)
from tests.conftest import REPO

DATASET = REPO / "golden" / "dataset.jsonl"
MODEL = "yonca-agri"
FACTS = CandidateFacts(base_model="tiny-random", quantization="F32")
TAGS = {
    "sha256",
    "size_bytes",
    "base_model",
    "quantization",
    "golden_score",
    "golden_set_sha256",
    "eval_run_id",
    "gate",
}


@pytest.fixture
def client(tracking_uri, empty_store, tmp_path):
    shutil.copy(empty_store, tracking_uri.removeprefix("sqlite:///"))
    client = connect(tracking_uri)
    client.experiment_id = ensure_experiment(
        client, "golden-test", str(tmp_path / "artifacts")
    )
    return client


def _evaluate_and_register(client, gguf: Path, threshold: float):
    record = evaluate(
        DATASET,
        gguf,
        threshold=threshold,
        limit=3,
        progress=False,
        params=GenerationParams(max_tokens=8),
    )
    run_id = log_evaluation(client, client.experiment_id, record)
    version = register_candidate(client, MODEL, gguf, record, run_id, FACTS)
    return record, version


def _promote(client, version, golden_sha256, threshold=0.85):
    return promote(
        client,
        MODEL,
        version,
        alias="production",
        threshold=threshold,
        current_golden_sha256=golden_sha256,
    )


def test_broken_candidate_is_registered_failed_and_not_promoted(client, tiny_gguf):
    record, version = _evaluate_and_register(client, tiny_gguf, threshold=0.85)

    assert set(version.tags) >= TAGS
    assert version.tags["gate"] == "failed"
    assert version.tags["sha256"] == record["model"]["sha256"]
    decision = _promote(client, version, record["golden_set"]["sha256"])

    assert not decision.promoted
    assert "gate-passed" in decision.line()
    assert get_alias_version(client, MODEL, "production") is None


def test_failed_candidate_leaves_production_where_it_was(client, tiny_gguf):
    # A zero threshold makes the first version pass its gate.
    vetted_record, vetted = _evaluate_and_register(client, tiny_gguf, threshold=0.0)
    golden_sha = vetted_record["golden_set"]["sha256"]
    assert _promote(client, vetted, golden_sha, threshold=0.0).promoted

    _, broken = _evaluate_and_register(client, tiny_gguf, threshold=0.85)
    decision = _promote(client, broken, golden_sha)

    assert not decision.promoted
    assert f"stays at version {vetted.version}" in decision.line()
    assert get_alias_version(client, MODEL, "production").version == vetted.version


def test_version_from_an_older_golden_set_is_refused(client, tiny_gguf):
    _, version = _evaluate_and_register(client, tiny_gguf, threshold=0.0)
    decision = _promote(client, version, "0" * 64, threshold=0.0)
    assert not decision.promoted
    assert "golden-set-current" in decision.line()


def test_tampered_artifact_is_refused(client, tiny_gguf):
    record, version = _evaluate_and_register(client, tiny_gguf, threshold=0.0)
    artifact = local_artifact(version)
    artifact.write_bytes(artifact.read_bytes()[:-16] + b"\0" * 16)

    decision = _promote(client, version, record["golden_set"]["sha256"], 0.0)
    assert not decision.promoted
    assert "artifact-intact" in decision.line()
    assert get_alias_version(client, MODEL, "production") is None
