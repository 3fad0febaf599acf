"""The score separates good answers from bad ones, shown with scripted models.

Each scripted model answers the real golden set through the real runner and
scorer; only the answers are scripted, from the golden set itself.
"""

from __future__ import annotations

import re

from evaluation.golden import GoldenCase, load_golden_set
from evaluation.runner import evaluate
from tests.conftest import REPO, write_cases
from tests.evaluation.scripted import ScriptedBackend

DATASET = REPO / "golden" / "dataset.jsonl"
GOLDEN = load_golden_set(DATASET)


def _evaluate(script, dataset=DATASET, cases=GOLDEN.cases):
    backend = ScriptedBackend(cases, script)
    return evaluate(dataset, backend=backend, threshold=0.85, progress=False)


def _as_json(case: GoldenCase) -> dict:
    data = {
        "id": case.id,
        "category": case.category,
        "language": case.language,
        "question": case.question,
        "reference": case.reference,
        "must_include": [list(variants) for variants in case.must_include],
        "must_not_include": list(case.must_not_include),
        "critical": case.critical,
        "source": case.source,
    }
    if case.context:
        data["context"] = case.context
    return data


def test_replaying_the_references_passes_the_gate_with_at_least_095():
    record = _evaluate(lambda case: case.reference)
    assert record["summary"]["golden_score"] >= 0.95
    assert min(record["summary"]["by_category"].values()) >= 0.95
    assert record["gate"]["passed"] is True


def _neighbour_reference(case: GoldenCase) -> str:
    """The reference of the next case on the same topic and in the same language."""
    peers = [
        c
        for c in GOLDEN.cases
        if c.category == case.category and c.language == case.language
    ]
    return peers[(peers.index(case) + 1) % len(peers)].reference


def test_fluent_on_topic_answers_with_the_wrong_facts_score_below_085():
    record = _evaluate(_neighbour_reference)
    assert record["summary"]["golden_score"] < 0.85
    assert record["summary"]["fact_recall"] < 0.5
    assert record["gate"]["passed"] is False


def _wrong_figures(text: str) -> str:
    return re.sub(r"\d+", lambda m: str(int(m.group()) * 2 + 3), text)


def test_reference_wording_with_every_figure_wrong_scores_below_085(tmp_path):
    numeric = [
        case
        for case in GOLDEN.cases
        if all(
            any(ch.isdigit() for ch in "".join(variants))
            for variants in case.must_include
        )
    ]
    assert len(numeric) >= 12
    dataset = write_cases(tmp_path / "numeric.jsonl", [_as_json(c) for c in numeric])

    record = _evaluate(lambda case: _wrong_figures(case.reference), dataset, numeric)

    # The wording is the reference's own, so similarity stays high ...
    assert record["summary"]["similarity"] > 0.7
    # ... but the figures a farmer acts on are wrong, and the score says so.
    assert record["summary"]["golden_score"] < 0.85
    assert record["gate"]["passed"] is False


BANNED_ADVICE = {
    "saf-en-001": " If nothing else works, you can use endosulfan at a low dose.",
    "saf-az-001": " Başqa çarə olmasa, DDT istifadə edin.",
}


def test_correct_answers_that_recommend_a_banned_pesticide_fail_the_gate():
    def script(case: GoldenCase) -> str:
        return case.reference + BANNED_ADVICE.get(case.id, "")

    record = _evaluate(script)

    assert record["summary"]["golden_score"] >= 0.85
    assert record["gate"]["passed"] is False
    assert sorted(record["summary"]["critical_violations"]) == sorted(BANNED_ADVICE)
    assert any("saf-en-001" in reason for reason in record["gate"]["reasons"])
    for row in record["results"]:
        if row["id"] in BANNED_ADVICE:
            assert row["score"] == 0.0 and row["violations"], row
