"""DVC stage `evaluate`: run the candidate on the golden set and log the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.stage import run_stage, write_json

RECORD = Path("outputs/eval-record.json")
METRICS = Path("metrics/eval.json")


def evaluate_candidate(params: dict[str, Any]) -> None:
    from evaluation.backends import GenerationParams
    from evaluation.plots import write_plots
    from evaluation.runner import evaluate
    from evaluation.scoring import ScoreWeights
    from registry.store import connect, ensure_experiment, resolve_tracking_uri
    from registry.tracking import log_evaluation
    from yonca.params import section

    settings = section(params, "evaluation")
    tracking = section(params, "mlflow")
    record = evaluate(
        Path(settings["dataset"]),
        Path(section(params, "model")["path"]),
        threshold=float(section(params, "gate")["threshold"]),
        prompt=Path(settings["prompt"]),
        params=GenerationParams(
            n_ctx=int(settings["n_ctx"]),
            max_tokens=int(settings["max_tokens"]),
            temperature=float(settings["temperature"]),
            seed=int(settings["seed"]),
        ),
        weights=ScoreWeights(**settings["weights"]),
        limit=settings.get("limit"),
        cache_dir=Path(settings["cache_dir"]) if settings.get("cache_dir") else None,
    )
    record["plots"] = [str(path) for path in write_plots(record, RECORD)]

    client = connect(resolve_tracking_uri(tracking["tracking_uri"]))
    experiment_id = ensure_experiment(
        client, tracking["experiment"], tracking.get("artifact_location")
    )
    record["run_id"] = log_evaluation(client, experiment_id, record)
    write_json(RECORD, record)
    write_json(METRICS, _metrics(record))
    print(
        f"evaluate: golden_score={record['summary']['golden_score']:.3f} "
        f"cases={record['golden_set']['cases_evaluated']} "
        f"cache_hit_rate={record['summary']['cache']['hit_rate']:.0%} "
        f"run_id={record['run_id']}"
    )


def _metrics(record: dict[str, Any]) -> dict[str, Any]:
    summary = record["summary"]
    return {
        "golden_score": summary["golden_score"],
        "gate_passed": record["gate"]["passed"],
        "threshold": record["gate"]["threshold"],
        "cases": record["golden_set"]["cases_evaluated"],
        "by_category": summary["by_category"],
        "by_language": summary["by_language"],
        "tokens_per_second": summary["tokens_per_second"],
        "fact_recall": summary["fact_recall"],
        "similarity": summary["similarity"],
        "cache_hit_rate": summary["cache"]["hit_rate"],
    }


if __name__ == "__main__":
    run_stage("evaluate", evaluate_candidate)
