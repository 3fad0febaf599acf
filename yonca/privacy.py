"""Turn off the telemetry of every dependency unless the user opts in.

MLflow, DVC, Great Expectations and ragas each report usage to their vendors by
default. Farm deployments often run without a route out, and nobody asked for
those reports, so every entry point calls :func:`disable_telemetry` first.
Set ``YONCA_ALLOW_TELEMETRY=1`` to leave the dependencies' own defaults alone.
"""

from __future__ import annotations

import os

# Each dependency's documented switch, set to its "off" value.
TELEMETRY_SWITCHES = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "DVC_NO_ANALYTICS": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "RAGAS_DO_NOT_TRACK": "true",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "false",
}


def disable_telemetry() -> None:
    """Set each dependency's telemetry switch off, keeping values the user set."""
    if os.environ.get("YONCA_ALLOW_TELEMETRY", "").lower() in {"1", "true", "yes"}:
        return
    for name, value in TELEMETRY_SWITCHES.items():
        os.environ.setdefault(name, value)
