"""Register a candidate GGUF as a model version carrying its evaluation record."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from registry.errors import ArtifactError, VersionNotFoundError
from registry.mlflow_model import log_gguf_model

log = structlog.get_logger("registry")

# The logged model's name; versions registered before the GGUF became an MLflow
# model keep the bare GGUF under this artifact folder of their evaluation run.
MODEL_ARTIFACT_PATH = "model"
# Where an MLflow model's folder keeps the files logged as its artifacts.
MLFLOW_MODEL_ARTIFACTS = "artifacts"


@dataclass(frozen=True)
class CandidateFacts:
    """What the registry records about the model beyond its evaluation."""

    base_model: str
    quantization: str
    fine_tune: str = "none"


def version_tags(record: dict[str, Any], run_id: str, facts: CandidateFacts) -> dict:
    """The tags every registered version carries, from its evaluation record."""
    return {
        "sha256": record["model"]["sha256"],
        "size_bytes": str(record["model"]["size_bytes"]),
        "base_model": facts.base_model,
        "quantization": facts.quantization,
        "fine_tune": facts.fine_tune,
        "golden_score": f"{record['summary']['golden_score']:.6f}",
        "golden_set_sha256": record["golden_set"]["sha256"],
        "prompt_sha256": record["prompt"]["sha256"],
        "eval_run_id": run_id,
        "gate": "passed" if record["gate"]["passed"] else "failed",
    }


def register_candidate(
    client,
    model_name: str,
    model_path: Path,
    record: dict[str, Any],
    run_id: str,
    facts: CandidateFacts,
):
    """Log the GGUF as an MLflow model of the evaluation run; register it.

    The version's source is the logged model's folder, which `mlflow models
    serve` can run and whose ``artifacts/`` holds the GGUF. Returns the
    created ``ModelVersion``.
    """
    import mlflow

    _ensure_registered_model(client, model_name)
    with mlflow.start_run(run_id=run_id):
        logged = log_gguf_model(model_path, MODEL_ARTIFACT_PATH)
    source = client.get_logged_model(logged.model_id).artifact_location

    tags = {**version_tags(record, run_id, facts), "file": model_path.name}
    version = client.create_model_version(
        name=model_name,
        source=source,
        run_id=run_id,
        tags=tags,
        description=_description(record),
        model_id=logged.model_id,
    )
    log.info(
        "model_version.registered",
        model_version=version.version,
        sha256=tags["sha256"],
        golden_score=tags["golden_score"],
        gate=tags["gate"],
    )
    return version


def _ensure_registered_model(client, model_name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(model_name)
    except MlflowException:
        client.create_registered_model(
            model_name,
            description="Farm-assistant GGUF models, gated on the golden set.",
        )


def _description(record: dict[str, Any]) -> str:
    summary, gate = record["summary"], record["gate"]
    verdict = "passed" if gate["passed"] else "failed: " + "; ".join(gate["reasons"])
    return (
        f"{record['model']['name']} ({record['model']['quantization']}): golden "
        f"score {summary['golden_score']:.3f} on "
        f"{record['golden_set']['cases_evaluated']} cases; gate at "
        f"{gate['threshold']:.2f} {verdict}."
    )


def get_version(client, model_name: str, version: str | int):
    """Return a model version, or raise :class:`VersionNotFoundError`."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version(model_name, str(version))
    except MlflowException as exc:
        raise VersionNotFoundError(
            f"model '{model_name}' has no version {version}; list them with "
            "`yonca registry list`."
        ) from exc


def get_alias_version(client, model_name: str, alias: str):
    """The version ``alias`` points at, or None when the alias is not set."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(model_name, alias)
    except MlflowException:
        return None


def local_artifact(version) -> Path:
    """Path of the version's GGUF on this machine, downloading it if remote.

    Finds it in the ``artifacts/`` folder of an MLflow model, or at the top of
    the source folder as versions registered before that format keep it.
    """
    import mlflow

    try:
        folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=version.source))
    except Exception as exc:  # the artifact repository raises backend-specific types
        raise ArtifactError(
            f"version {version.version}: artifact at {version.source} cannot be "
            f"fetched ({exc})."
        ) from exc
    ggufs = [folder]
    if folder.is_dir():
        ggufs = sorted(folder.glob("*.gguf")) or sorted(
            (folder / MLFLOW_MODEL_ARTIFACTS).glob("*.gguf")
        )
    if not ggufs:
        raise ArtifactError(
            f"version {version.version}: no .gguf file under {version.source}."
        )
    return ggufs[0]
