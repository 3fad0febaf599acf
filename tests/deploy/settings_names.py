"""The environment names the API reads, to check deployment files against."""

from __future__ import annotations

from serving.settings import ServingSettings

# Read by the libraries inside the image rather than by ServingSettings.
PROCESS_ENV = {"MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK", "HF_HUB_OFFLINE"}


def serving_env_names() -> set[str]:
    """Every variable name the serving settings accept, upper-cased."""
    return {name.upper() for name in ServingSettings.model_fields} | PROCESS_ENV
