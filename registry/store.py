"""Connect to MLflow: the tracking URI, the experiment and the client."""

from __future__ import annotations

import os
from pathlib import Path

from registry.errors import RegistryUnavailableError

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"


def resolve_tracking_uri(configured: str) -> str:
    """``MLFLOW_TRACKING_URI`` when set, else the configured URI."""
    return os.environ.get(TRACKING_URI_ENV) or configured


def connect(tracking_uri: str):
    """Point MLflow at ``tracking_uri`` and return a client for it."""
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(tracking_uri)
    try:
        client = MlflowClient(tracking_uri=tracking_uri)
        client.search_registered_models(max_results=1)
    except Exception as exc:  # MLflow raises many types for an unreachable store
        raise RegistryUnavailableError(
            f"cannot open the MLflow store at {tracking_uri} ({exc}); check "
            f"{TRACKING_URI_ENV} or mlflow.tracking_uri in params.yaml."
        ) from exc
    return client


def ensure_experiment(client, name: str, artifact_location: str | None) -> str:
    """Return the id of experiment ``name``, creating it when missing.

    A relative ``artifact_location`` is resolved against the working directory
    so that runs started from any stage write to the same folder.
    """
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    location = None
    if artifact_location:
        is_uri = "://" in artifact_location
        location = (
            artifact_location if is_uri else Path(artifact_location).resolve().as_uri()
        )
    return client.create_experiment(name, artifact_location=location)
