"""`dvc repro` from synthetic farms to a gated registry decision, in a scratch copy."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.slow

PROJECT_FILES = [
    "dvc.yaml",
    "params.yaml",
    ".dvcignore",
    "pyproject.toml",
    "pipelines",
    "synthetic",
    "evaluation",
    "registry",
    "yonca",
    "golden",
    "prompts",
]
BIN = Path(sys.executable).parent


def _sh(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env_path = f"{BIN}:/usr/bin:/bin"
    return subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        env={
            "PATH": env_path,
            "HOME": str(cwd),
            "DVC_NO_ANALYTICS": "1",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "PYTHONPATH": str(cwd),
        },
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory, tiny_gguf) -> Path:
    """A copy of the project whose candidate is the broken tiny GGUF."""
    root = tmp_path_factory.mktemp("project")
    for name in PROJECT_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(
                source, root / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(source, root / name)

    params = yaml.safe_load((root / "params.yaml").read_text())
    params["synthetic"]["farms"] = 200
    params["model"]["source"] = str(tiny_gguf)
    params["evaluation"]["limit"] = 3
    params["evaluation"]["max_tokens"] = 8
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    for command in (["git", "init", "-q"], [str(BIN / "dvc"), "init", "-q"]):
        assert _sh(*command, cwd=root).returncode == 0
    return root


@pytest.fixture(scope="module")
def first_repro(project):
    result = _sh(str(BIN / "dvc"), "repro", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_repro_registers_the_broken_candidate_as_failed(project, first_repro):
    registration = json.loads((project / "outputs/registration.json").read_text())
    tags = registration["tags"]
    assert registration["model_name"] == "yonca-agri"
    assert tags["gate"] == "failed"
    for name in (
        "sha256",
        "size_bytes",
        "base_model",
        "quantization",
        "golden_score",
        "golden_set_sha256",
        "eval_run_id",
    ):
        assert tags[name], name


def test_repro_prints_one_refusal_line_and_sets_no_alias(project, first_repro):
    lines = [
        ln for ln in first_repro.stdout.splitlines() if ln.startswith("promotion:")
    ]
    assert len(lines) == 1
    assert "threshold=0.85" in lines[0] and "verdict=REFUSED" in lines[0]
    promotion = json.loads((project / "outputs/promotion.json").read_text())
    assert promotion["promoted"] is False
    assert promotion["previous_version"] is None


def test_dvc_metrics_show_prints_the_golden_score(project, first_repro):
    result = _sh(str(BIN / "dvc"), "metrics", "show", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "golden_score" in result.stdout


def test_mlflow_store_holds_the_run_and_the_version(project, first_repro):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    versions = client.search_model_versions("name='yonca-agri'")
    assert len(versions) == 1
    run = client.get_run(versions[0].tags["eval_run_id"])
    assert "golden_score" in run.data.metrics
    assert run.data.params["golden_set.cases"] == "3"


def test_second_repro_has_nothing_to_do(project, first_repro):
    result = _sh(str(BIN / "dvc"), "repro", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert "Running stage" not in result.stdout
