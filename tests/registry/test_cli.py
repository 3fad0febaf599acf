"""`yonca promote`, `rollback` and `registry …` as an engineer runs them."""

from __future__ import annotations

import os
import subprocess

import pytest
from typer.testing import CliRunner

from registry.versions import get_version, local_artifact
from tests.registry.conftest import BIN, MODEL
from yonca.cli import app

runner = CliRunner()


def yonca(*args: str):
    return runner.invoke(app, list(args))


def history() -> str:
    return yonca("registry", "history").output


def test_promote_refuses_a_failed_gate_and_names_the_rule(registry):
    version = registry.register(score=0.4)

    result = yonca("promote", "--version", version)

    assert result.exit_code == 1
    assert "REFUSED" in result.output
    assert "gate-passed" in result.output
    assert "--force --reason" in result.output
    assert registry.alias() is None
    assert f"refusal production - -> {version}" in history()


def test_promote_moves_production_to_a_vetted_version(registry):
    version = registry.register(score=0.9)

    result = yonca("promote", "--version", version)

    assert result.exit_code == 0, result.output
    assert "PROMOTED to 'production'" in result.output
    assert registry.alias() == version
    assert f"promotion production - -> {version} by test-engineer via cli" in (
        history()
    )


def test_promote_refuses_a_category_regression_against_production(registry):
    vetted = registry.register(categories={"irrigation": 0.95, "pests": 0.9})
    assert yonca("promote", "--version", vetted).exit_code == 0
    worse = registry.register(categories={"irrigation": 0.80, "pests": 0.99})

    result = yonca("promote", "--version", worse)

    assert result.exit_code == 1
    assert "category-regression: 'irrigation' fell 0.150" in result.output
    assert "pests" not in result.output.split("category-regression")[1]
    assert registry.alias() == vetted


def test_small_category_drop_within_the_allowance_is_promoted(registry):
    vetted = registry.register(categories={"irrigation": 0.95, "pests": 0.9})
    assert yonca("promote", "--version", vetted).exit_code == 0
    close = registry.register(categories={"irrigation": 0.91, "pests": 0.9})

    assert yonca("promote", "--version", close).exit_code == 0
    assert registry.alias() == close


def test_version_scored_on_an_older_golden_set_is_refused(registry):
    version = registry.register(score=0.95)
    with registry.golden.open("a", encoding="utf-8") as stream:
        stream.write("\n")

    result = yonca("promote", "--version", version)

    assert result.exit_code == 1
    assert "golden-set-current" in result.output
    assert registry.alias() is None


def test_tampered_artifact_is_refused(registry):
    version = registry.register(score=0.95)
    artifact = local_artifact(get_version(registry.client, MODEL, version))
    artifact.write_bytes(artifact.read_bytes()[:-8] + b"\0" * 8)

    result = yonca("promote", "--version", version)

    assert result.exit_code == 1
    assert "artifact-intact" in result.output


def test_force_with_a_reason_overrides_and_is_recorded(registry):
    version = registry.register(score=0.4)

    result = yonca(
        "promote", "--version", version, "--force", "--reason", "hotfix for demo"
    )

    assert result.exit_code == 0, result.output
    assert "OVERRIDDEN" in result.output
    assert registry.alias() == version
    line = next(line for line in history().splitlines() if " override " in line)
    assert "gate-passed" in line
    assert "reason='hotfix for demo'" in line


def test_force_without_a_reason_is_rejected_and_changes_nothing(registry):
    version = registry.register(score=0.4)

    result = yonca("promote", "--version", version, "--force")

    assert result.exit_code == 2
    assert "--reason" in result.output
    assert registry.alias() is None


def test_staging_alias_leaves_production_alone(registry):
    version = registry.register(score=0.9)

    result = yonca("promote", "--version", version, "--alias", "staging")

    assert result.exit_code == 0, result.output
    assert registry.alias("staging") == version
    assert registry.alias("production") is None


def test_unknown_version_says_how_to_list_versions(registry):
    result = yonca("promote", "--version", "42")

    assert result.exit_code == 2
    assert "yonca registry list" in result.output


def test_rollback_walks_back_through_production_history(registry):
    versions = [registry.register(score=0.9) for _ in range(3)]
    for version in versions:
        assert yonca("promote", "--version", version).exit_code == 0

    assert yonca("rollback").exit_code == 0
    assert registry.alias() == versions[1]
    assert yonca("rollback").exit_code == 0
    assert registry.alias() == versions[0]

    last = yonca("rollback")
    assert last.exit_code == 2
    assert "no version" in last.output
    assert registry.alias() == versions[0]
    assert f"rollback production {versions[1]} -> {versions[0]}" in history()


def test_rollback_refuses_a_version_that_no_longer_passes(registry):
    old = registry.register(score=0.9)
    assert yonca("promote", "--version", old).exit_code == 0
    new = registry.register(score=0.9)
    assert yonca("promote", "--version", new).exit_code == 0
    registry.client.set_model_version_tag(MODEL, old, "gate", "failed")

    result = yonca("rollback")

    assert result.exit_code == 1
    assert "gate-passed" in result.output
    assert registry.alias() == new


def test_verify_fails_without_production(registry):
    result = yonca("registry", "verify")

    assert result.exit_code == 1
    assert "points at nothing" in result.output


def test_verify_passes_for_vetted_production_and_fails_once_tampered(registry):
    version = registry.register(score=0.9)
    assert yonca("promote", "--version", version).exit_code == 0
    assert yonca("registry", "verify").exit_code == 0

    artifact = local_artifact(get_version(registry.client, MODEL, version))
    artifact.write_bytes(b"not a model")
    result = yonca("registry", "verify")

    assert result.exit_code == 1
    assert "artifact-intact" in result.output


def test_list_shows_each_version_with_aliases_score_and_gate(registry):
    good = registry.register(score=0.9)
    # Rounded as the decision lines round it, not cut to 0.399.
    registry.register(score=0.399693)
    assert yonca("promote", "--version", good).exit_code == 0

    result = yonca("registry", "list")

    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "tiny.gguf" in line]
    assert len(rows) == 2
    assert "production" in rows[1] and "passed" in rows[1]
    assert "failed" in rows[0] and "production" not in rows[0]
    assert "tiny-random" in rows[0] and "0.400" in rows[0]


@pytest.mark.parametrize("command", [["promote", "--version", "1"], ["rollback"]])
def test_unreachable_store_is_reported_with_what_to_check(
    registry, monkeypatch, command
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")

    result = yonca(*command)

    assert result.exit_code == 2
    assert "MLFLOW_TRACKING_URI" in result.output


READING_COMMANDS = [
    ["registry", "list"],
    ["registry", "history"],
    ["registry", "verify"],
    ["promote", "--version", "1"],
    ["rollback"],
]


@pytest.mark.parametrize("command", READING_COMMANDS)
def test_sqlite_store_in_a_missing_folder_is_refused_not_created(
    registry, monkeypatch, tmp_path, command
):
    missing = tmp_path / "some" / "missing" / "folder" / "mlflow.db"
    uri = f"sqlite:///{missing}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)

    result = yonca(*command)

    assert result.exit_code == 2, result.output
    assert f"no MLflow store at {uri}" in result.output
    assert "dvc repro" in result.output and "MLFLOW_TRACKING_URI" in result.output
    assert not (tmp_path / "some").exists()


def test_mistyped_sqlite_file_name_is_refused_not_read_as_empty(
    registry, monkeypatch, tmp_path
):
    registry.register(score=0.9)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///mlfow.db")

    result = yonca("registry", "list")

    assert result.exit_code == 2
    assert "no MLflow store at sqlite:///mlfow.db" in result.output
    assert str(tmp_path / "mlfow.db") in result.output
    assert "registered versions" not in result.output
    assert not (tmp_path / "mlfow.db").exists()


def test_piped_list_keeps_each_version_on_one_line(registry):
    version = registry.register(score=0.9)
    assert yonca("promote", "--version", version).exit_code == 0
    sha = registry.client.get_model_version(MODEL, version).tags["sha256"][:12]
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}

    result = subprocess.run(
        [str(BIN / "yonca"), "registry", "list"],
        cwd=registry.golden.parent,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if sha in line]
    assert len(rows) == 1, result.stdout
    cells = [cell.strip() for cell in rows[0].split("│")]
    assert str(version) in cells and "production" in cells and "0.900" in cells
    assert "tiny.gguf" in cells


def test_pipeline_promote_stage_writes_its_decision_to_the_trail(registry):
    from pipelines.promote import PROMOTION, promote_candidate
    from pipelines.stage import write_json
    from yonca.params import load_params

    version = registry.register(score=0.9)
    write_json(
        registry.golden.parent / "outputs" / "registration.json",
        {"model_name": MODEL, "version": version},
    )

    promote_candidate(load_params())

    assert registry.alias() == version
    assert '"promoted": true' in PROMOTION.read_text(encoding="utf-8")
    assert f"promotion production - -> {version}" in history()
    assert "via pipeline" in history()
