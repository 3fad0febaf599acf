import pytest

from evaluation.golden import GoldenCase, load_golden_set
from evaluation.scoring import ScoreWeights, decide_gate, score_answer
from tests.conftest import REPO


def _case(**overrides) -> GoldenCase:
    fields = dict(
        id="fert-en-900",
        category="fertilisation",
        language="en",
        question="When do I apply nitrogen to winter wheat?",
        reference="Split nitrogen: apply at tillering and again at stem elongation.",
        must_include=(("tillering",), ("stem elongation", "booting")),
        must_not_include=("all at sowing",),
        critical=False,
        source="FAO",
    )
    fields.update(overrides)
    return GoldenCase(**fields)


@pytest.mark.parametrize(
    "case", load_golden_set(REPO / "golden" / "dataset.jsonl").cases, ids=str
)
def test_every_reference_answer_scores_at_least_095(case):
    assert score_answer(case, case.reference).score >= 0.95


def test_answer_with_all_facts_scores_high_and_gibberish_low():
    case = _case()
    good = score_answer(case, "Apply it at tillering, then at stem elongation.")
    bad = score_answer(case, "qz the a is of wwx")
    assert good.fact_recall == 1.0
    assert bad.fact_recall == 0.0
    assert good.score > 0.8 > 0.2 > bad.score


def test_missing_fact_is_reported_by_its_first_variant():
    scored = score_answer(_case(), "Apply at tillering.")
    assert scored.missing_facts == ("stem elongation",)
    assert scored.fact_recall == 0.5


def test_forbidden_phrase_zeroes_the_score():
    scored = score_answer(
        _case(), "Put it all at sowing, tillering and stem elongation are late."
    )
    assert scored.violations == ("all at sowing",)
    assert scored.score == 0.0


def test_weights_must_sum_to_one():
    with pytest.raises(ValueError, match="sum to 1"):
        ScoreWeights(facts=0.7, similarity=0.7)


def test_gate_fails_below_threshold_and_on_critical_violation():
    assert decide_gate(0.86, 0.85, []).passed
    below = decide_gate(0.84, 0.85, [])
    assert not below.passed and "below" in below.reasons[0]
    unsafe = decide_gate(0.99, 0.85, ["safety-en-001"])
    assert not unsafe.passed and "safety-en-001" in unsafe.reasons[0]
