"""`dvc repro` from synthetic farms to a gated registry decision, in a scratch copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.support.project import BIN, copy_project, run

pytestmark = pytest.mark.slow
DVC = str(BIN / "dvc")


@pytest.fixture(scope="module")
def project(tmp_path_factory, tiny_gguf) -> Path:
    """A copy of the project whose candidate is the broken tiny GGUF."""
    return copy_project(
        tmp_path_factory.mktemp("project"),
        synthetic={"farms": 200},
        model={"source": str(tiny_gguf)},
        evaluation={"limit": 3, "max_tokens": 8},
    )


@pytest.fixture(scope="module")
def first_repro(project):
    result = run([DVC, "repro"], cwd=project)
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
    result = run([DVC, "metrics", "show"], cwd=project)
    assert result.returncode == 0, result.stderr
    assert "golden_score" in result.stdout


def test_mlflow_store_holds_the_run_and_the_version(project, first_repro):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    versions = client.search_model_versions("name='yonca-agri'")
    assert len(versions) == 1
    run_ = client.get_run(versions[0].tags["eval_run_id"])
    assert "golden_score" in run_.data.metrics
    assert run_.data.params["golden_set.cases"] == "3"
    logged = {a.path for a in client.list_artifacts(run_.info.run_id, "evaluation")}
    assert "evaluation/cases.json" in logged
    plots = client.list_artifacts(run_.info.run_id, "evaluation/plots")
    assert sorted(Path(a.path).suffix for a in plots) == [".png", ".png"]


def test_second_repro_has_nothing_to_do(project, first_repro):
    result = run([DVC, "repro"], cwd=project)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert "Running stage" not in result.stdout


def test_evaluate_failing_on_a_bad_parameter_keeps_the_last_good_outputs(
    project, first_repro
):
    outputs = [
        "outputs/eval-record.json",
        "metrics/eval.json",
        "outputs/eval-record-by-category.png",
        "outputs/eval-record-latency.png",
    ]
    before = {name: (project / name).read_bytes() for name in outputs}
    params = project / "params.yaml"
    good = params.read_text()
    bad = yaml.safe_load(good)
    bad["evaluation"]["limit"] = 0
    params.write_text(yaml.safe_dump(bad, sort_keys=False))
    try:
        result = run([DVC, "repro", "evaluate"], cwd=project)
    finally:
        params.write_text(good)

    assert result.returncode != 0
    assert "evaluation.limit" in result.stderr
    assert {name: (project / name).read_bytes() for name in outputs} == before
    status = run([DVC, "status"], cwd=project)
    assert "up to date" in status.stdout, status.stdout


def test_broken_synthetic_table_stops_the_job_before_evaluation(tmp_path, tiny_gguf):
    import pandas as pd

    project = copy_project(
        tmp_path,
        synthetic={"farms": 50},
        model={"source": str(tiny_gguf)},
        evaluation={"limit": 1, "max_tokens": 4},
    )
    assert run([DVC, "repro", "synthesize"], cwd=project).returncode == 0
    farms_file = project / "data/synthetic/farms.parquet"
    farms = pd.read_parquet(farms_file)
    pd.concat([farms, farms.head(3)]).to_parquet(farms_file, index=False)

    result = run([DVC, "repro", "--downstream", "validate"], cwd=project)
    assert result.returncode != 0
    assert "farm_id" in result.stderr and "3" in result.stderr
    assert not (project / "outputs/eval-record.json").exists()
