"""DVC stage `register`: register the evaluated GGUF as a new model version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.evaluate import RECORD
from pipelines.stage import read_json, run_stage, write_json

REGISTRATION = Path("outputs/registration.json")


def register(params: dict[str, Any]) -> None:
    from pipelines.settings import MlflowParams, ModelParams, read_section
    from registry.store import connect, resolve_tracking_uri
    from registry.versions import CandidateFacts, register_candidate

    model = read_section(params, "model", ModelParams)
    tracking = read_section(params, "mlflow", MlflowParams)
    record = read_json(RECORD, produced_by="evaluate")
    client = connect(resolve_tracking_uri(tracking.tracking_uri))
    version = register_candidate(
        client,
        tracking.model_name,
        model.path,
        record,
        record["run_id"],
        CandidateFacts(base_model=model.base_model, quantization=model.quantization),
    )
    write_json(
        REGISTRATION,
        {
            "model_name": tracking.model_name,
            "version": version.version,
            "tags": version.tags,
        },
    )
    print(
        f"register: {tracking.model_name} version {version.version} "
        f"gate={version.tags['gate']} golden_score={version.tags['golden_score']}"
    )


if __name__ == "__main__":
    run_stage("register", register)
