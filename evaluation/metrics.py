"""Judge-free similarity metrics from ragas, computed on normalised text.

Three metrics compare an answer with the reference answer of its golden case:
chrF (character n-grams, forgiving of Azerbaijani suffixes), ROUGE-L (longest
common word sequence) and a Levenshtein string similarity. Each lies in [0, 1].

ragas and the scorers behind it take ten seconds or more to import, so they
are loaded on first use (or by :func:`load_metrics`): an evaluation that stops
at an unusable input never pays for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from evaluation.text import normalize

# rouge-score keeps only the letters a-z and digits, so "şəhər" would split into
# "h" and "r"; mapping the Azerbaijani letters to their Latin bases keeps words
# whole. chrF and the string similarity see the letters as they are.
_ASCII_FOLD = str.maketrans("əşçğöüé", "escgoue")


@dataclass(frozen=True)
class Similarity:
    """How close an answer is to the reference, metric by metric."""

    chrf: float
    rouge_l: float
    string_similarity: float


@cache
def _ragas_metrics():
    from ragas.metrics.collections import CHRFScore, NonLLMStringSimilarity, RougeScore

    return CHRFScore(), RougeScore(rouge_type="rougeL"), NonLLMStringSimilarity()


def load_metrics() -> None:
    """Import ragas and its scorers now rather than on the first score.

    ragas, rouge-score (with nltk) and sacrebleu import lazily and take
    seconds; scoring one pair pulls them all in, so later scores cost
    milliseconds.
    """
    measure("warm-up answer", "warm-up reference")


def measure(answer: str, reference: str) -> Similarity:
    """The three similarity metrics of one answer against its reference."""
    return measure_many([(answer, reference)])[0]


def measure_many(pairs: Sequence[tuple[str, str]]) -> list[Similarity]:
    """Similarity of each ``(answer, reference)`` pair, in order.

    All pairs are scored inside one event loop: starting a loop per answer
    costs more than the metrics themselves.
    """
    return asyncio.run(_measure_all(pairs))


async def _measure_all(pairs: Sequence[tuple[str, str]]) -> list[Similarity]:
    return [await _measure_pair(answer, reference) for answer, reference in pairs]


async def _measure_pair(answer: str, reference: str) -> Similarity:
    hypothesis, target = normalize(answer), normalize(reference)
    if not hypothesis or not target:
        return Similarity(chrf=0.0, rouge_l=0.0, string_similarity=0.0)

    chrf, rouge, levenshtein = _ragas_metrics()
    chrf_result = await chrf.ascore(reference=target, response=hypothesis)
    rouge_result = await rouge.ascore(
        reference=target.translate(_ASCII_FOLD),
        response=hypothesis.translate(_ASCII_FOLD),
    )
    string_result = await levenshtein.ascore(reference=target, response=hypothesis)
    return Similarity(
        chrf=_unit(chrf_result.value),
        rouge_l=_unit(rouge_result.value),
        string_similarity=_unit(string_result.value),
    )


def _unit(value: float | None) -> float:
    return min(1.0, max(0.0, float(value or 0.0)))
