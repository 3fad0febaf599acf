"""The evaluation record: everything needed to reproduce and audit a score."""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from evaluation.backends import GenerationParams
from evaluation.golden import GoldenSet
from evaluation.judge import JUDGE_METRICS
from evaluation.prompts import PromptTemplate
from evaluation.scoring import GateVerdict, ScoreWeights, mean_by, mean_of

RECORDED_PACKAGES = (
    "llama-cpp-python",
    "gguf",
    "ragas",
    "rapidfuzz",
    "rouge-score",
    "sacrebleu",
    "jsonschema",
    "openai",
    "instructor",
)


@dataclass(frozen=True)
class RunTimes:
    """Where the wall-clock time of a run went, in seconds."""

    total: float
    loading_metrics: float
    generating: float
    scoring: float
    judging: float = 0.0


@dataclass(frozen=True)
class CacheSummary:
    """How the generation cache served this run."""

    enabled: bool
    path: str | None
    hits: int
    misses: int
    hit_rate: float


def cache_summary(path: Path | None, cached: Sequence[bool]) -> CacheSummary:
    """How the generation cache at ``path`` (None when off) served the answers."""
    if path is None:
        return CacheSummary(enabled=False, path=None, hits=0, misses=0, hit_rate=0.0)
    hits = sum(cached)
    return CacheSummary(
        enabled=True,
        path=str(path),
        hits=hits,
        misses=len(cached) - hits,
        hit_rate=round(hits / len(cached), 6),
    )


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape a score, plus Python's."""
    versions = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def build_record(
    *,
    model: dict[str, Any],
    golden: GoldenSet,
    prompt: PromptTemplate,
    params: GenerationParams,
    weights: ScoreWeights,
    results: list[dict[str, Any]],
    verdict: GateVerdict,
    times: RunTimes,
    cache: CacheSummary,
    judge: dict[str, Any],
) -> dict[str, Any]:
    """Assemble the JSON-ready record of one evaluation.

    ``judge`` describes the judge (or says there was none); the judge metrics
    themselves are read from ``results``.
    """
    return {
        "model": model,
        "golden_set": {
            "path": str(golden.path),
            "sha256": golden.sha256,
            "cases_total": len(golden.cases),
            "cases_evaluated": len(results),
        },
        "prompt": {"path": str(prompt.path), "sha256": prompt.sha256},
        "generation": asdict(params),
        "weights": asdict(weights),
        "judge": judge,
        "packages": package_versions(),
        "summary": _summary(results, verdict, times, cache),
        "gate": asdict(verdict),
        "results": results,
    }


def _summary(
    results: list[dict[str, Any]],
    verdict: GateVerdict,
    times: RunTimes,
    cache: CacheSummary,
) -> dict[str, Any]:
    tokens = sum(row["completion_tokens"] for row in results)
    # Cached answers keep the time they took when generated, so tokens/s and
    # time per case describe the model, not the cache.
    answering = sum(row["seconds"] for row in results)
    return {
        "golden_score": verdict.golden_score,
        "by_category": mean_by(results, "category"),
        "by_language": mean_by(results, "language"),
        "fact_recall": _mean(results, "fact_recall"),
        "similarity": _mean(results, "similarity"),
        "critical_violations": list(verdict.critical_violations),
        "completion_tokens": tokens,
        "tokens_per_second": round(tokens / answering, 3) if answering else 0.0,
        "seconds_per_case": round(answering / len(results), 3),
        "seconds_total": round(times.total, 3),
        "metrics_load_seconds": round(times.loading_metrics, 3),
        "generation_seconds": round(times.generating, 3),
        "scoring_seconds": round(times.scoring, 3),
        "judging_seconds": round(times.judging, 3),
        # Scoring time over the time the answers took to generate (for cached
        # answers, when they were generated): what scoring adds to a run.
        "scoring_overhead": round(times.scoring / answering, 4) if answering else 0.0,
        "cache": asdict(cache),
        "judge": _judge_summary(results),
    }


def _mean(results: list[dict[str, Any]], key: str) -> float:
    return round(sum(row[key] for row in results) / len(results), 6)


def _judge_summary(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Means of the judge metrics overall, per category and per language.

    None when no judge ran. Cases the judge could not score (an answer that
    states nothing) are left out of the means and counted as ``unjudged``.
    """
    if not results or JUDGE_METRICS[0] not in results[0]:
        return None
    summary: dict[str, Any] = {
        metric: mean_of([row[metric] for row in results if row[metric] is not None])
        for metric in JUDGE_METRICS
    }
    summary["unjudged"] = {
        metric: sum(row[metric] is None for row in results) for metric in JUDGE_METRICS
    }
    for group in ("category", "language"):
        means = {metric: mean_by(results, group, metric) for metric in JUDGE_METRICS}
        summary[f"by_{group}"] = {
            name: {metric: means[metric][name] for metric in JUDGE_METRICS}
            for name in means[JUDGE_METRICS[0]]
        }
    return summary


def write_record(record: dict[str, Any], path: Path) -> None:
    """Write the record as indented UTF-8 JSON, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, ensure_ascii=False, indent=2)
    path.write_text(text + "\n", encoding="utf-8")
