"""Fill an MLflow registry with known versions, or print what it holds.

Run as a separate process by the backup test, so that no database connection
survives the drop and restore in between:

    python -m tests.deploy.registry_snapshot populate TRACKING_URI ARTIFACTS_DIR
    python -m tests.deploy.registry_snapshot snapshot TRACKING_URI OUT_DIR

Both print the registry's content as JSON: per model version its tags and
aliases, and the bytes of its artifact (as sha256) read back through MLflow.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

MODEL = "yonca-agri"
VERSIONS = (
    {"sha256": "a" * 64, "golden_score": "0.91", "gate": "passed"},
    {"sha256": "b" * 64, "golden_score": "0.42", "gate": "failed"},
    {"sha256": "c" * 64, "golden_score": "0.88", "gate": "passed"},
)
ALIASES = {"production": "1", "candidate": "3"}


def populate(tracking_uri: str, artifacts_dir: Path) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    experiment = client.create_experiment(
        "yonca-backup-test", artifact_location=artifacts_dir.resolve().as_uri()
    )
    client.create_registered_model(MODEL, tags={"owner": "platform"})
    for number, tags in enumerate(VERSIONS, start=1):
        run = client.create_run(experiment)
        model_file = artifacts_dir.parent / f"model-{number}.gguf"
        model_file.write_bytes(f"stand-in GGUF number {number}".encode())
        client.log_artifact(run.info.run_id, str(model_file), artifact_path="model")
        client.set_terminated(run.info.run_id)
        client.create_model_version(
            MODEL,
            source=f"{run.info.artifact_uri}/model",
            run_id=run.info.run_id,
            tags={**tags, "eval_run_id": run.info.run_id},
        )
    for alias, version in ALIASES.items():
        client.set_registered_model_alias(MODEL, alias, version)


def snapshot(tracking_uri: str, out_dir: Path) -> dict:
    import mlflow.artifacts
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    model = client.get_registered_model(MODEL)
    versions = {}
    for found in client.search_model_versions(f"name = '{MODEL}'"):
        # Search results leave aliases out; a single version carries them.
        version = client.get_model_version(MODEL, str(found.version))
        folder = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=version.source,
                dst_path=str(out_dir / str(version.version)),
            )
        )
        content = b"".join(p.read_bytes() for p in sorted(folder.glob("*.gguf")))
        versions[str(version.version)] = {
            "tags": dict(version.tags),
            "aliases": sorted(version.aliases),
            "artifact_sha256": hashlib.sha256(content).hexdigest(),
        }
    return {
        "model_tags": dict(model.tags),
        "aliases": model.aliases,
        "versions": versions,
    }


def main() -> None:
    command, tracking_uri, folder = sys.argv[1:4]
    if command == "populate":
        populate(tracking_uri, Path(folder))
    sys.stdout.write(json.dumps(snapshot(tracking_uri, Path(folder).parent / command)))


if __name__ == "__main__":
    main()
