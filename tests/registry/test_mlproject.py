"""The MLproject entry points run through `mlflow run` with the local env."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from registry.promotion import promote
from tests.conftest import REPO
from tests.registry.conftest import MODEL

STAGES = {"synthesize", "evaluate", "register", "promote"}


def test_every_pipeline_stage_has_an_entry_point():
    project = yaml.safe_load((REPO / "MLproject").read_text(encoding="utf-8"))

    points = project["entry_points"]
    assert set(points) >= STAGES
    for stage in STAGES:
        assert points[stage]["command"] == f"python -m pipelines.{stage}"


def mlflow_run(entry_point: str, tracking_uri: str):
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "PATH": bin_dir + os.pathsep + os.environ["PATH"],
    }
    command = [bin_dir + "/mlflow", "run", str(REPO), "-e", entry_point]
    return subprocess.run(
        [*command, "--env-manager", "local"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_verify_entry_point_runs_under_mlflow_run(registry, tracking_uri):
    refused = mlflow_run("verify", tracking_uri)
    assert refused.returncode != 0
    assert "points at nothing" in refused.stdout + refused.stderr

    version = registry.client.get_model_version(MODEL, registry.register(score=0.9))
    config = registry.config
    promote(
        registry.client,
        MODEL,
        version,
        alias="production",
        threshold=config.threshold,
        current_golden_sha256=config.golden_set_sha256(),
    )
    vetted = mlflow_run("verify", tracking_uri)

    assert vetted.returncode == 0, vetted.stderr[-2000:]
    assert "verify: OK 'production' -> version 1" in vetted.stdout
