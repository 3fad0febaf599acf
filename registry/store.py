"""Connect to MLflow: the tracking URI, the experiment and the client."""

from __future__ import annotations

import os
from pathlib import Path

from registry.errors import RegistryUnavailableError

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"


def resolve_tracking_uri(configured: str) -> str:
    """``MLFLOW_TRACKING_URI`` when set, else the configured URI."""
    return os.environ.get(TRACKING_URI_ENV) or configured


def connect(tracking_uri: str, *, create: bool = True):
    """Point MLflow at ``tracking_uri`` and return a client for it.

    MLflow creates a SQLite store, folders included, wherever a ``sqlite://``
    URI points. Commands that only look at an existing registry pass
    ``create=False``: a URI naming a file that does not exist (a typo, another
    working directory) is then refused instead of read as an empty registry.
    """
    import mlflow
    from mlflow import MlflowClient

    if not create:
        _require_sqlite_file(tracking_uri)
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


def _require_sqlite_file(tracking_uri: str) -> None:
    """Raise RegistryUnavailableError if a SQLite URI names no existing file."""
    path = _sqlite_path(tracking_uri)
    if path is None or path.exists():
        return
    raise RegistryUnavailableError(
        f"no MLflow store at {tracking_uri}: {path.resolve()} does not exist. "
        "Run `dvc repro` to create the registry, or check "
        f"{TRACKING_URI_ENV} and mlflow.tracking_uri in params.yaml (a relative "
        "path starts at the working directory)."
    )


def _sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite://`` URI; None for other URIs and memory."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not tracking_uri.startswith("sqlite"):
        return None
    try:
        url = make_url(tracking_uri)
    except ArgumentError:
        return None
    database = url.database
    if url.get_backend_name() != "sqlite" or not database:
        return None
    if database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


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
