"""The registry's settings, read once from params.yaml and the environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.errors import RegistryConfigError
from registry.store import resolve_tracking_uri

DEFAULT_MAX_CATEGORY_DROP = 0.05
AUDIT_EXPERIMENT = "yonca-audit"
PRODUCTION = "production"


@dataclass(frozen=True)
class RegistryConfig:
    """Where the registry lives and the rules its aliases obey."""

    tracking_uri: str
    model_name: str
    alias: str
    threshold: float
    max_category_drop: float
    golden_set: Path

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> RegistryConfig:
        """Build the settings; ``MLFLOW_TRACKING_URI`` overrides params.yaml."""
        try:
            tracking, gate = params["mlflow"], params["gate"]
            return cls(
                tracking_uri=resolve_tracking_uri(tracking["tracking_uri"]),
                model_name=tracking["model_name"],
                alias=tracking.get("alias", PRODUCTION),
                threshold=float(gate["threshold"]),
                max_category_drop=float(
                    gate.get("max_category_drop", DEFAULT_MAX_CATEGORY_DROP)
                ),
                golden_set=Path(params["evaluation"]["dataset"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RegistryConfigError(
                f"params.yaml lacks a usable registry setting ({exc!r}); it needs "
                "mlflow.tracking_uri, mlflow.model_name, gate.threshold and "
                "evaluation.dataset."
            ) from exc

    def golden_set_sha256(self) -> str:
        """The sha256 of the golden set as it is now: the one gates must match."""
        from yonca.hashing import sha256_file

        try:
            return sha256_file(self.golden_set)
        except OSError as exc:
            raise RegistryConfigError(
                f"cannot read the golden set {self.golden_set} ({exc.strerror}); "
                "check evaluation.dataset in params.yaml, or run from the "
                "repository root."
            ) from exc


def load_config(path: Path | None = None) -> RegistryConfig:
    """Read params.yaml (the working directory's by default) into settings."""
    from yonca.params import PARAMS_FILE, ParamsError, load_params

    try:
        params = load_params(path or PARAMS_FILE)
    except ParamsError as exc:
        raise RegistryConfigError(str(exc)) from exc
    return RegistryConfig.from_params(params)
