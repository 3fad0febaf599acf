"""Deterministic generation and the generation cache, on the tiny random GGUF."""

from __future__ import annotations

import pytest

from evaluation.backends import GenerationParams
from evaluation.golden import load_golden_set
from evaluation.runner import evaluate
from evaluation.scoring import ScoreWeights
from tests.conftest import REPO, write_cases
from tests.evaluation.test_score_proof import _as_json

PARAMS = GenerationParams(max_tokens=24)


@pytest.fixture(scope="module")
def spread_dataset(tmp_path_factory):
    """One golden case per category and language pair: 8 cases, both languages."""
    cases, seen = [], set()
    for case in load_golden_set(REPO / "golden" / "dataset.jsonl").cases:
        language = "az" if len(seen) % 2 == 0 else "en"
        if case.category not in seen and case.language == language:
            seen.add(case.category)
            cases.append(_as_json(case))
    path = tmp_path_factory.mktemp("golden") / "spread.jsonl"
    return write_cases(path, cases)


def _run(dataset, model, **options):
    options.setdefault("params", PARAMS)
    return evaluate(dataset, model, threshold=0.85, progress=False, **options)


@pytest.fixture(scope="module")
def uncached_runs(spread_dataset, tiny_gguf):
    return _run(spread_dataset, tiny_gguf), _run(spread_dataset, tiny_gguf)


def test_same_model_twice_without_cache_gives_same_answers_and_score(uncached_runs):
    first, second = uncached_runs
    assert [r["answer"] for r in first["results"]] == [
        r["answer"] for r in second["results"]
    ]
    assert first["summary"]["golden_score"] == second["summary"]["golden_score"]
    assert first["summary"]["cache"]["enabled"] is False
    assert not any(row["cached"] for row in first["results"])


def test_tiny_random_model_scores_at_most_02_in_every_category(uncached_runs):
    record, _ = uncached_runs
    assert len(record["summary"]["by_category"]) == 8
    assert record["summary"]["golden_score"] <= 0.2
    assert record["gate"]["passed"] is False


def test_rescoring_with_new_weights_regenerates_nothing(
    spread_dataset, tiny_gguf, tmp_path, uncached_runs
):
    cache = tmp_path / "generations"
    cold = _run(spread_dataset, tiny_gguf, cache_dir=cache)
    facts_only = ScoreWeights(facts=1.0, chrf=0.0, rouge_l=0.0, string_similarity=0.0)
    warm = _run(spread_dataset, tiny_gguf, cache_dir=cache, weights=facts_only)

    assert cold["summary"]["cache"]["hit_rate"] == 0.0
    assert warm["summary"]["cache"] | {"path": None} == {
        "enabled": True,
        "path": None,
        "hits": 8,
        "misses": 0,
        "hit_rate": 1.0,
    }
    assert [r["answer"] for r in warm["results"]] == [
        r["answer"] for r in uncached_runs[0]["results"]
    ]
    assert all(r["score"] == r["fact_recall"] for r in warm["results"])


def test_changing_a_generation_parameter_misses_the_cache(
    spread_dataset, tiny_gguf, tmp_path
):
    cache = tmp_path / "generations"
    _run(spread_dataset, tiny_gguf, cache_dir=cache, limit=2)
    longer = GenerationParams(max_tokens=PARAMS.max_tokens + 8)
    rerun = _run(spread_dataset, tiny_gguf, cache_dir=cache, limit=2, params=longer)
    assert rerun["summary"]["cache"]["misses"] == 2
