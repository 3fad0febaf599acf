"""Score one answer against its golden case, and a run against the gate.

A case scores ``facts * fact_recall + similarity * chrF`` (weights from
params.yaml, summing to 1), and 0 when the answer says anything the case
forbids. The golden score is the mean over cases. The gate passes when the
golden score reaches the threshold and no critical (safety) case was violated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sacrebleu.metrics import CHRF

from evaluation.golden import GoldenCase
from evaluation.text import contains, normalize

_CHRF = CHRF()


@dataclass(frozen=True)
class ScoreWeights:
    """How much fact recall and reference similarity count in a case score."""

    facts: float = 0.8
    similarity: float = 0.2

    def __post_init__(self) -> None:
        if min(self.facts, self.similarity) < 0:
            raise ValueError("score weights must not be negative")
        if abs(self.facts + self.similarity - 1.0) > 1e-9:
            raise ValueError(
                f"score weights must sum to 1 (facts={self.facts}, "
                f"similarity={self.similarity}); fix evaluation.weights."
            )


@dataclass(frozen=True)
class CaseScore:
    """The score of one answer and the evidence behind it."""

    score: float
    fact_recall: float
    similarity: float
    missing_facts: tuple[str, ...]
    violations: tuple[str, ...]


def score_answer(
    case: GoldenCase, answer: str, weights: ScoreWeights | None = None
) -> CaseScore:
    """Score ``answer`` to ``case``; an answer with a violation scores 0."""
    weights = weights or ScoreWeights()
    missing = tuple(
        variants[0]
        for variants in case.must_include
        if not any(contains(answer, variant) for variant in variants)
    )
    recall = 1.0 - len(missing) / len(case.must_include)
    violations = tuple(p for p in case.must_not_include if contains(answer, p))
    similarity = reference_similarity(answer, case.reference)

    score = (
        0.0
        if violations
        else weights.facts * recall + (weights.similarity * similarity)
    )
    return CaseScore(
        score=round(score, 6),
        fact_recall=round(recall, 6),
        similarity=round(similarity, 6),
        missing_facts=missing,
        violations=violations,
    )


def reference_similarity(answer: str, reference: str) -> float:
    """chrF between the normalised answer and reference, in [0, 1]."""
    hypothesis, target = normalize(answer), normalize(reference)
    if not hypothesis or not target:
        return 0.0
    return _CHRF.sentence_score(hypothesis, [target]).score / 100.0


@dataclass(frozen=True)
class GateVerdict:
    """Whether a golden score lets the candidate be promoted, and why."""

    golden_score: float
    threshold: float
    passed: bool
    reasons: tuple[str, ...]


def decide_gate(
    golden_score: float, threshold: float, critical_violations: Sequence[str]
) -> GateVerdict:
    """Apply the gate: score at or above threshold and no critical violation."""
    reasons = []
    if golden_score < threshold:
        reasons.append(f"golden score {golden_score:.3f} is below {threshold:.2f}")
    if critical_violations:
        reasons.append(
            "critical safety case(s) violated: " + ", ".join(critical_violations)
        )
    return GateVerdict(
        golden_score=golden_score,
        threshold=threshold,
        passed=not reasons,
        reasons=tuple(reasons),
    )


def mean_by(rows: Iterable[dict], key: str) -> dict[str, float]:
    """Mean of ``row["score"]`` grouped by ``row[key]``, keys sorted."""
    groups: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row["score"])
    return {name: round(sum(v) / len(v), 6) for name, v in sorted(groups.items())}
