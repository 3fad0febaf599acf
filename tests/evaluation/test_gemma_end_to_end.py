"""The real default candidate, Gemma 3 270M Q4_K_M, on a few golden cases."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO, run_module

pytestmark = pytest.mark.slow
GEMMA_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"


@pytest.fixture(scope="module")
def gemma_record(gemma_gguf, tmp_path_factory):
    output = tmp_path_factory.mktemp("eval") / "eval-results.json"
    result = run_module(
        "evaluation.runner",
        "--dataset",
        str(REPO / "golden" / "dataset.jsonl"),
        "--model",
        str(gemma_gguf),
        "--threshold",
        "0.85",
        "--output",
        str(output),
        "--limit",
        "4",
        "--max-tokens",
        "64",
        "--no-cache",
    )
    assert result.returncode in (0, 1), result.stderr
    return json.loads(output.read_text()), result


def test_gemma_answers_every_case_in_words(gemma_record):
    record, _ = gemma_record
    assert record["model"]["sha256"] == GEMMA_SHA256
    assert record["model"]["architecture"] == "gemma3"
    assert len(record["results"]) == 4
    for row in record["results"]:
        assert len(row["answer"].split()) >= 3, row


def test_gemma_record_carries_every_hash(gemma_record):
    record, _ = gemma_record
    assert len(record["golden_set"]["sha256"]) == 64
    assert len(record["prompt"]["sha256"]) == 64
    assert record["generation"]["temperature"] == 0.0
    assert record["packages"]["llama-cpp-python"] == "0.3.36"


def test_gemma_exit_status_follows_the_gate(gemma_record):
    record, result = gemma_record
    expected = 0 if record["gate"]["passed"] else 1
    assert result.returncode == expected


def test_gemma_scores_above_a_random_model(gemma_record, tiny_gguf, tmp_path):
    record, _ = gemma_record
    output = tmp_path / "tiny.json"
    run_module(
        "evaluation.runner",
        "--dataset",
        str(REPO / "golden" / "dataset.jsonl"),
        "--model",
        str(tiny_gguf),
        "--output",
        str(output),
        "--limit",
        "4",
        "--max-tokens",
        "64",
        "--no-cache",
    )
    tiny = json.loads(output.read_text())
    assert record["summary"]["golden_score"] > tiny["summary"]["golden_score"]
