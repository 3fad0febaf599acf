"""Log an evaluation record as an MLflow run."""

from __future__ import annotations

from typing import Any

import structlog

log = structlog.get_logger("registry")


def log_evaluation(client, experiment_id: str, record: dict[str, Any]) -> str:
    """Create a run holding the record's parameters, metrics and case table.

    Returns the run id, which the registered version carries as ``eval_run_id``.
    """
    import mlflow
    import pandas as pd

    model, golden, summary = record["model"], record["golden_set"], record["summary"]
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.set_tags(
            {
                "model_sha256": model["sha256"],
                "golden_set_sha256": golden["sha256"],
                "prompt_sha256": record["prompt"]["sha256"],
                "gate": "passed" if record["gate"]["passed"] else "failed",
            }
        )
        mlflow.log_params(_params(record))
        mlflow.log_metrics(
            {**_metrics(summary, record["gate"]), **_judge_metrics(record)}
        )
        mlflow.log_dict(record, "evaluation/record.json")
        mlflow.log_table(pd.DataFrame(record["results"]), "evaluation/cases.json")
        for plot in record.get("plots", []):
            mlflow.log_artifact(plot, artifact_path="evaluation/plots")

    log.info(
        "evaluation.logged",
        run_id=run.info.run_id,
        sha256=model["sha256"],
        golden_set_sha256=golden["sha256"],
    )
    return run.info.run_id


def _params(record: dict[str, Any]) -> dict[str, Any]:
    params = {f"generation.{k}": v for k, v in record["generation"].items()}
    params.update(
        {
            "model.name": record["model"]["name"],
            "model.quantization": record["model"]["quantization"],
            "model.path": record["model"]["path"],
            "golden_set.path": record["golden_set"]["path"],
            "golden_set.cases": record["golden_set"]["cases_evaluated"],
            "prompt.path": record["prompt"]["path"],
            "gate.threshold": record["gate"]["threshold"],
        }
    )
    params.update({f"package.{k}": v for k, v in record["packages"].items()})
    return params


def _metrics(summary: dict[str, Any], gate: dict[str, Any]) -> dict[str, float]:
    metrics = {
        "golden_score": summary["golden_score"],
        "gate_passed": float(gate["passed"]),
        "tokens_per_second": summary["tokens_per_second"],
        "seconds_per_case": summary["seconds_per_case"],
    }
    for optional in ("fact_recall", "similarity"):
        if optional in summary:
            metrics[optional] = summary[optional]
    if "cache" in summary:
        metrics["cache_hit_rate"] = summary["cache"]["hit_rate"]
    metrics.update({f"category.{k}": v for k, v in summary["by_category"].items()})
    metrics.update({f"language.{k}": v for k, v in summary["by_language"].items()})
    return metrics


def _judge_metrics(record: dict[str, Any]) -> dict[str, float]:
    """Judge means under flat names such as ``faithfulness.category.irrigation``.

    Empty when no judge ran; a mean over no judged case is left out.
    """
    judged = record["summary"].get("judge")
    if not judged:
        return {}
    names = record["judge"]["metrics"]
    metrics = {name: judged[name] for name in names}
    for category, means in judged["by_category"].items():
        metrics.update({f"{name}.category.{category}": means[name] for name in names})
    return {key: value for key, value in metrics.items() if value is not None}
