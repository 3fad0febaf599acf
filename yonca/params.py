"""Read the pipeline parameters from ``params.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PARAMS_FILE = Path("params.yaml")


class ParamsError(Exception):
    """``params.yaml`` is missing, unreadable, or lacks a required key."""


def load_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    """Return the parsed parameters, or raise :class:`ParamsError` saying why."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ParamsError(f"{path} not found; run from the repository root.") from exc
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ParamsError(f"{path} must hold a mapping of sections.")
    return data


def section(params: dict[str, Any], name: str) -> dict[str, Any]:
    """Return one section of the parameters, naming it when it is missing."""
    value = params.get(name)
    if not isinstance(value, dict):
        raise ParamsError(f"params.yaml has no '{name}:' section; add it.")
    return value
