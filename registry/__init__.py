"""MLflow tracking and model registry: record runs, register versions, gate aliases."""
