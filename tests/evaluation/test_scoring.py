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
    "case",
    load_golden_set(REPO / "golden" / "dataset.jsonl").cases,
    ids=lambda case: case.id,
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
        ScoreWeights(facts=0.7, chrf=0.7)


def test_a_weight_that_is_not_a_number_is_refused_by_name():
    with pytest.raises(ValueError, match="finite numbers, not nan for facts"):
        ScoreWeights(facts=float("nan"), chrf=0.1, rouge_l=0.05, string_similarity=0.05)


def test_a_score_that_is_not_a_number_fails_the_gate():
    verdict = decide_gate(float("nan"), 0.85, critical_violations=())

    assert not verdict.passed


def test_every_similarity_metric_is_1_for_the_reference_and_low_for_noise():
    case = _case()
    same = score_answer(case, case.reference)
    noise = score_answer(case, "qz wwx plo kk")
    for metric in ("chrf", "rouge_l", "string_similarity"):
        assert getattr(same, metric) == 1.0
        assert 0.0 <= getattr(noise, metric) < 0.3


def test_azerbaijani_words_count_whole_in_rouge():
    case = _case(
        language="az",
        reference="Səhər tezdən suvarın, günortanın istisində su buxarlanır.",
        must_include=(("səhər",),),
    )
    reordered = score_answer(case, "Günortanın istisində su buxarlanır; səhər suvarın.")
    unrelated = score_answer(case, "Şumdan əvvəl fosfor gübrəsi verin.")
    assert reordered.rouge_l > 0.5 > unrelated.rouge_l


def test_capitalised_azerbaijani_answer_still_matches_its_facts():
    case = _case(language="az", must_include=(("isti havada",),))
    assert score_answer(case, "İSTİ HAVADA SƏHƏR SUVARIN").fact_recall == 1.0


def test_weights_come_apart_into_facts_and_similarity():
    facts_only = ScoreWeights(facts=1.0, chrf=0.0, rouge_l=0.0, string_similarity=0.0)
    scored = score_answer(_case(), "Apply at tillering.", facts_only)
    assert scored.score == scored.fact_recall == 0.5


def test_gate_fails_when_a_category_drops_more_than_allowed():
    production = {"irrigation": 0.90, "safety": 0.95}
    candidate = {"irrigation": 0.92, "safety": 0.80}
    verdict = decide_gate(
        0.90,
        0.85,
        [],
        by_category=candidate,
        baseline_by_category=production,
        max_category_drop=0.05,
    )
    assert not verdict.passed
    assert verdict.category_drops == ("safety 0.950 -> 0.800",)
    lenient = decide_gate(
        0.90,
        0.85,
        [],
        by_category=candidate,
        baseline_by_category=production,
        max_category_drop=0.2,
    )
    assert lenient.passed


def test_gate_fails_below_threshold_and_on_critical_violation():
    assert decide_gate(0.86, 0.85, []).passed
    below = decide_gate(0.84, 0.85, [])
    assert not below.passed and "below" in below.reasons[0]
    unsafe = decide_gate(0.99, 0.85, ["safety-en-001"])
    assert not unsafe.passed and "safety-en-001" in unsafe.reasons[0]
