"""DVC stage `evaluate`: run the candidate on the golden set and log the run."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from pipelines.stage import run_stage, write_json

RECORD = Path("outputs/eval-record.json")
METRICS = Path("metrics/eval.json")


def evaluate_candidate(params: dict[str, Any]) -> None:
    from evaluation.backends import GenerationParams
    from evaluation.plots import write_plots
    from evaluation.runner import evaluate
    from pipelines.settings import (
        EvaluationParams,
        GateParams,
        MlflowParams,
        ModelParams,
        judge_settings,
        read_section,
        score_weights,
    )
    from registry.store import connect, ensure_experiment, resolve_tracking_uri
    from registry.tracking import log_evaluation

    settings = read_section(params, "evaluation", EvaluationParams)
    model = read_section(params, "model", ModelParams)
    gate = read_section(params, "gate", GateParams)
    tracking = read_section(params, "mlflow", MlflowParams)
    client = connect(resolve_tracking_uri(tracking.tracking_uri))
    record = evaluate(
        settings.dataset,
        model.path,
        threshold=gate.threshold,
        prompt=settings.prompt,
        params=GenerationParams(
            n_ctx=settings.n_ctx,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            seed=settings.seed,
        ),
        weights=score_weights(settings),
        limit=settings.limit,
        cache_dir=settings.cache_dir,
        judge=judge_settings(settings),
        baseline=production_record(client, tracking.model_name, tracking.alias),
        max_category_drop=gate.max_category_drop,
    )
    experiment_id = ensure_experiment(
        client, tracking.experiment, tracking.artifact_location
    )
    # The charts are drawn aside and moved beside the record only once the
    # run is logged: a failed logging call leaves the previous outputs whole.
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=RECORD.parent) as staging:
        drafts = write_plots(record, Path(staging) / RECORD.name)
        record["plots"] = [str(draft) for draft in drafts]
        record["run_id"] = log_evaluation(client, experiment_id, record)
        record["plots"] = [str(_move_beside(draft, RECORD)) for draft in drafts]
    write_json(RECORD, record)
    write_json(METRICS, _metrics(record))
    print(
        f"evaluate: golden_score={record['summary']['golden_score']:.3f} "
        f"cases={record['golden_set']['cases_evaluated']} "
        f"cache_hit_rate={record['summary']['cache']['hit_rate']:.0%} "
        f"run_id={record['run_id']}"
    )


def production_record(client, model_name: str, alias: str) -> dict[str, Any] | None:
    """The evaluation record of the version ``alias`` points at, if readable.

    The gate compares the candidate with it category by category; the runner
    ignores it when it was scored on other golden cases.
    """
    import mlflow
    import structlog

    from registry.versions import get_alias_version

    version = get_alias_version(client, model_name, alias)
    if version is None:
        return None
    uri = f"runs:/{version.tags.get('eval_run_id')}/evaluation/record.json"
    try:
        return mlflow.artifacts.load_dict(uri)
    except Exception as exc:  # a deleted run or artifact: nothing to compare with
        structlog.get_logger("pipelines").warning(
            "evaluation.baseline_unreadable",
            model_version=version.version,
            reason=repr(exc),
        )
        return None


def _move_beside(draft: Path, record: Path) -> Path:
    final = record.parent / draft.name
    draft.replace(final)
    return final


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
        **({"judge": summary["judge"]} if summary.get("judge") else {}),
    }


if __name__ == "__main__":
    run_stage("evaluate", evaluate_candidate)
