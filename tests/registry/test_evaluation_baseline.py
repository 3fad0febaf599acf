"""The evaluate stage's gate compares the candidate with production by category."""

from __future__ import annotations

from evaluation.golden import load_golden_set
from evaluation.runner import evaluate
from pipelines.evaluate import production_record
from registry.tracking import log_evaluation
from registry.versions import register_candidate
from tests.conftest import REPO
from tests.evaluation.scripted import ScriptedBackend
from tests.registry.conftest import FACTS, MODEL, fake_record

DATASET = REPO / "golden" / "dataset.jsonl"
PROMPT = REPO / "prompts" / "farm_assistant.v1.yaml"
LIMIT = 8


def _promote_production(registry, by_category: dict[str, float]) -> None:
    golden = load_golden_set(DATASET)
    record = fake_record(registry.gguf, golden.sha256, 0.9, by_category, passed=True)
    record["golden_set"]["cases_evaluated"] = LIMIT
    run_id = log_evaluation(registry.client, registry.experiment_id, record)
    version = register_candidate(
        registry.client, MODEL, registry.gguf, record, run_id, FACTS
    )
    registry.client.set_registered_model_alias(MODEL, "production", version.version)


def _evaluate_with_one_category_wrong(baseline):
    cases = load_golden_set(DATASET).cases[:LIMIT]
    weak = cases[0].category

    def script(case):
        return "I cannot say." if case.category == weak else case.reference

    record = evaluate(
        DATASET,
        backend=ScriptedBackend(cases, script),
        threshold=0.0,
        limit=LIMIT,
        prompt=PROMPT,
        progress=False,
        baseline=baseline,
        max_category_drop=0.05,
    )
    return record, weak


def test_a_category_that_falls_below_production_fails_the_gate(registry):
    categories = {case.category for case in load_golden_set(DATASET).cases[:LIMIT]}
    _promote_production(registry, dict.fromkeys(categories, 1.0))

    baseline = production_record(registry.client, MODEL, "production")
    record, weak = _evaluate_with_one_category_wrong(baseline)

    assert not record["gate"]["passed"]
    assert any(
        "against the production model" in reason and weak in reason
        for reason in record["gate"]["reasons"]
    )


def test_without_production_there_is_nothing_to_compare_and_the_gate_passes(
    registry,
):
    baseline = production_record(registry.client, MODEL, "production")
    record, _ = _evaluate_with_one_category_wrong(baseline)

    assert baseline is None
    assert record["gate"]["passed"]
