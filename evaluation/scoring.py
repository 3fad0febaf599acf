"""Score answers against their golden cases, and a run against the gate.

A case scores the weighted sum of its fact recall (the share of ``must_include``
facts the answer states) and three judge-free similarity metrics against the
reference (chrF, ROUGE-L, string similarity). When a judge is configured, its
two metrics (faithfulness, factual correctness) may take a share too; their
weights default to 0, so by default they are reported and never scored. The
weights come from ``evaluation.weights`` in params.yaml and sum to 1, so a
score lies in [0, 1]. An answer that says anything its case forbids
(``must_not_include``) scores 0.

The golden score is the mean over cases. The gate passes when the golden score
reaches the threshold, no critical (safety) case was violated and, when a
baseline is given, no category fell by more than the allowed drop.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields

from evaluation.golden import GoldenCase
from evaluation.judge import Judgement
from evaluation.metrics import Similarity, measure_many
from evaluation.text import contains


@dataclass(frozen=True)
class ScoreWeights:
    """How much each part counts in a case score; the parts sum to 1."""

    facts: float = 0.8
    chrf: float = 0.1
    rouge_l: float = 0.05
    string_similarity: float = 0.05
    faithfulness: float = 0.0
    factual_correctness: float = 0.0

    def __post_init__(self) -> None:
        values = {part.name: getattr(self, part.name) for part in fields(self)}
        # NaN compares false with everything: left through, it would make
        # every score NaN and slip past the threshold comparison.
        unusable = [name for name, value in values.items() if not math.isfinite(value)]
        if unusable:
            raise ValueError(
                f"score weights must be finite numbers, not {values[unusable[0]]} "
                f"for {unusable[0]}; fix evaluation.weights in params.yaml."
            )
        if min(values.values()) < 0:
            raise ValueError(
                f"score weights must not be negative ({values}); "
                "fix evaluation.weights in params.yaml."
            )
        if abs(sum(values.values()) - 1.0) > 1e-9:
            raise ValueError(
                f"score weights must sum to 1, they sum to {sum(values.values()):g} "
                f"({values}); fix evaluation.weights in params.yaml."
            )

    @property
    def similarity(self) -> float:
        """The share of the score given to similarity with the reference."""
        return self.chrf + self.rouge_l + self.string_similarity

    @property
    def judged(self) -> float:
        """The share of the score given to the judge metrics (0 by default)."""
        return self.faithfulness + self.factual_correctness


@dataclass(frozen=True)
class CaseScore:
    """The score of one answer and the evidence behind it."""

    score: float
    fact_recall: float
    similarity: float
    chrf: float
    rouge_l: float
    string_similarity: float
    missing_facts: tuple[str, ...]
    violations: tuple[str, ...]
    judgement: Judgement | None = None


def score_answer(
    case: GoldenCase, answer: str, weights: ScoreWeights | None = None
) -> CaseScore:
    """Score ``answer`` to ``case``; an answer with a violation scores 0."""
    return score_answers([(case, answer)], weights)[0]


def score_answers(
    answered: Sequence[tuple[GoldenCase, str]],
    weights: ScoreWeights | None = None,
    judgements: Sequence[Judgement] | None = None,
) -> list[CaseScore]:
    """Score each ``(case, answer)`` pair, in order.

    ``judgements``, one per pair, are required when the weights give the judge
    metrics a share; otherwise they are carried along unscored.
    """
    weights = weights or ScoreWeights()
    if judgements is None and weights.judged:
        raise ValueError(
            f"score weights give the judge metrics {weights.judged:g} but no judge "
            "was configured; configure evaluation.judge or set the weights of "
            "faithfulness and factual_correctness to 0."
        )

    similarities = measure_many([(answer, case.reference) for case, answer in answered])
    judged = judgements if judgements is not None else [None] * len(answered)
    return [
        _combine(case, answer, similarity, judgement, weights)
        for (case, answer), similarity, judgement in zip(
            answered, similarities, judged, strict=True
        )
    ]


def _combine(
    case: GoldenCase,
    answer: str,
    similarity: Similarity,
    judgement: Judgement | None,
    weights: ScoreWeights,
) -> CaseScore:
    missing = tuple(
        variants[0]
        for variants in case.must_include
        if not any(contains(answer, variant) for variant in variants)
    )
    recall = 1.0 - len(missing) / len(case.must_include)
    violations = tuple(p for p in case.must_not_include if contains(answer, p))

    weighted_similarity = (
        weights.chrf * similarity.chrf
        + weights.rouge_l * similarity.rouge_l
        + weights.string_similarity * similarity.string_similarity
    )
    weighted_judgement = _weighted_judgement(judgement, weights)
    score = (
        0.0
        if violations
        else weights.facts * recall + weighted_similarity + weighted_judgement
    )
    return CaseScore(
        score=round(score, 6),
        fact_recall=round(recall, 6),
        similarity=round(_share(weighted_similarity, weights.similarity), 6),
        chrf=round(similarity.chrf, 6),
        rouge_l=round(similarity.rouge_l, 6),
        string_similarity=round(similarity.string_similarity, 6),
        missing_facts=missing,
        violations=violations,
        judgement=judgement,
    )


def _weighted_judgement(judgement: Judgement | None, weights: ScoreWeights) -> float:
    # A metric the judge could not compute (an answer stating nothing) earns
    # nothing, like a fact the answer does not state.
    if judgement is None:
        return 0.0
    return weights.faithfulness * (
        judgement.faithfulness or 0.0
    ) + weights.factual_correctness * (judgement.factual_correctness or 0.0)


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


@dataclass(frozen=True)
class GateVerdict:
    """Whether a golden score lets the candidate be promoted, and why."""

    golden_score: float
    threshold: float
    passed: bool
    reasons: tuple[str, ...]
    critical_violations: tuple[str, ...] = ()
    category_drops: tuple[str, ...] = ()


def decide_gate(
    golden_score: float,
    threshold: float,
    critical_violations: Sequence[str],
    *,
    by_category: Mapping[str, float] | None = None,
    baseline_by_category: Mapping[str, float] | None = None,
    max_category_drop: float | None = None,
) -> GateVerdict:
    """Apply the gate rules and say which of them failed.

    The category rule applies only when a baseline (the production model's
    scores on the same golden set) and ``max_category_drop`` are both given.
    """
    reasons = []
    if not golden_score >= threshold:  # a NaN score fails too
        reasons.append(f"golden score {golden_score:.3f} is below {threshold:.2f}")
    if critical_violations:
        reasons.append(
            "critical safety case(s) violated: " + ", ".join(critical_violations)
        )
    drops = _category_drops(by_category, baseline_by_category, max_category_drop)
    if drops:
        reasons.append(
            f"categories dropped by more than {max_category_drop:.2f} against "
            "the production model: " + ", ".join(drops)
        )
    return GateVerdict(
        golden_score=golden_score,
        threshold=threshold,
        passed=not reasons,
        reasons=tuple(reasons),
        critical_violations=tuple(critical_violations),
        category_drops=drops,
    )


def _category_drops(
    by_category: Mapping[str, float] | None,
    baseline: Mapping[str, float] | None,
    max_drop: float | None,
) -> tuple[str, ...]:
    if not by_category or not baseline or max_drop is None:
        return ()
    return tuple(
        f"{name} {baseline[name]:.3f} -> {score:.3f}"
        for name, score in sorted(by_category.items())
        if name in baseline and baseline[name] - score > max_drop + 1e-9
    )


def mean_by(rows: Iterable[dict], key: str, value: str = "score") -> dict:
    """Mean of ``row[value]`` grouped by ``row[key]``, keys sorted.

    Rows whose value is None are left out; a group with no value means None.
    """
    groups: dict[str, list[float]] = {}
    for row in rows:
        values = groups.setdefault(row[key], [])
        if row.get(value) is not None:
            values.append(row[value])
    return {name: mean_of(values) for name, values in sorted(groups.items())}


def mean_of(values: Sequence[float]) -> float | None:
    """The mean rounded to 6 places, or None for no values."""
    return round(sum(values) / len(values), 6) if values else None
