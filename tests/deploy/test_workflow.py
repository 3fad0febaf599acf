"""The CI/CD workflow: valid for GitHub, and wired to the project's commands."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from tests.deploy.conftest import REPO, tool

WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    document = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 reads the key `on` as True.
    document["on"] = document.pop(True)
    return document


def steps_text(job: dict) -> str:
    return "\n".join(str(step.get("run", "")) for step in job["steps"])


def test_workflow_matches_the_github_workflow_schema():
    result = subprocess.run(
        [
            tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            str(WORKFLOW),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_stage_has_a_job(workflow):
    assert set(workflow["jobs"]) == {
        "lint",
        "typecheck",
        "unit-tests",
        "integration-tests",
        "eval-gate",
        "dependency-scan",
        "image",
        "deploy-staging",
        "promote-production",
    }


def test_jobs_only_wait_for_jobs_that_exist(workflow):
    for name, job in workflow["jobs"].items():
        needs = job.get("needs", [])
        for need in [needs] if isinstance(needs, str) else needs:
            assert need in workflow["jobs"], f"{name} needs unknown job {need}"


def test_lint_runs_ruff_check_and_format(workflow):
    text = steps_text(workflow["jobs"]["lint"])
    assert "ruff@" in text and " check ." in text and "format --check" in text


def test_integration_tests_get_postgres_and_redis(workflow):
    job = workflow["jobs"]["integration-tests"]
    assert set(job["services"]) == {"postgres", "redis"}
    assert "tests/deploy" in steps_text(job)


def test_eval_gate_runs_the_runner_at_the_threshold(workflow):
    job = workflow["jobs"]["eval-gate"]
    text = steps_text(job)
    assert "-m evaluation.runner" in text
    assert "--dataset golden/dataset.jsonl" in text
    assert "--model models/candidate.gguf" in text
    assert "--threshold 0.85" in text
    limits = [
        step["env"]["LIMIT"] for step in job["steps"] if "LIMIT" in step.get("env", {})
    ]
    assert limits and "pull_request" in limits[0] and "--limit" in limits[0]


def test_scans_cover_dependencies_and_the_image(workflow):
    assert "pip-audit" in steps_text(workflow["jobs"]["dependency-scan"])
    uses = [step.get("uses", "") for step in workflow["jobs"]["image"]["steps"]]
    assert any(u.startswith("aquasecurity/trivy-action") for u in uses)
    assert any(u.startswith("docker/build-push-action") for u in uses)


def test_release_deploys_to_staging_and_smoke_tests_it(workflow):
    job = workflow["jobs"]["deploy-staging"]
    assert job["if"] == "github.event_name == 'release'"
    assert "release" in workflow["on"]
    text = steps_text(job)
    assert "deploy/k8s/overlays/staging" in str(job["steps"])
    assert "scripts/smoke-test.sh" in text


def test_only_a_manual_dispatch_promotes_to_production(workflow):
    job = workflow["jobs"]["promote-production"]
    assert job["if"] == "github.event_name == 'workflow_dispatch'"
    assert job["environment"]["name"] == "production"
    inputs = workflow["on"]["workflow_dispatch"]["inputs"]
    assert inputs["model_version"]["required"] is True
    text = steps_text(job)
    assert 'yonca promote --version "$MODEL_VERSION"' in text
    assert "yonca rollback" in text


def test_scripts_the_workflow_runs_exist_and_are_executable(workflow):
    text = "\n".join(steps_text(job) for job in workflow["jobs"].values())
    for script in {"scripts/smoke-test.sh"}:
        assert script in text
        assert os.access(REPO / script, os.X_OK), f"{script} is not executable"
