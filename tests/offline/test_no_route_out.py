"""The main job and the serving API run with no route out and reach no one.

Runs `dvc repro` from a clean state, then the API with its smoke test, in a
network namespace that has only the loopback interface, with an audit hook in
every Python process recording each attempt to open a socket to a non-loopback
address.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.offline import AUDIT_DIR, namespaces_available, offline
from tests.support.project import BIN, copy_project, run

pytestmark = pytest.mark.slow
needs_namespace = pytest.mark.skipif(
    not namespaces_available(),
    reason="needs `unshare -n` (root or user namespaces) to cut the network",
)


@pytest.fixture(scope="module")
def offline_repro(tmp_path_factory):
    root = tmp_path_factory.mktemp("offline")
    # A zero threshold lets the default model pass its gate, so that the
    # promotion moves the alias and the API has a vetted model to load.
    project = copy_project(
        root / "project",
        synthetic={"farms": 100},
        evaluation={"limit": 2, "max_tokens": 16},
        gate={"threshold": 0.0},
    )
    audit_log = root / "network-attempts.jsonl"
    env = {
        "PYTHONPATH": f"{AUDIT_DIR}:{project}",
        "YONCA_NET_AUDIT_LOG": str(audit_log),
    }
    result = run(offline(f"{BIN / 'dvc'} repro"), cwd=project, env=env)
    return project, result, audit_log, env


SERVE_AND_SMOKE = (
    "MODEL_CACHE_DIR=serving-cache python -m uvicorn serving.app:app "
    "--host 127.0.0.1 --port 18555 & server=$!; "
    "for _ in $(seq 90); do "
    "curl -s -o /dev/null http://127.0.0.1:18555/health && break; sleep 1; done; "
    "SMOKE_READY_WAIT=120 bash scripts/smoke-test.sh http://127.0.0.1:18555; "
    "status=$?; kill $server; wait $server; exit $status"
)


@pytest.fixture(scope="module")
def offline_serving(offline_repro):
    project, repro, audit_log, env = offline_repro
    assert repro.returncode == 0, repro.stderr[-3000:]
    serving_env = {**env, "MLFLOW_TRACKING_URI": f"sqlite:///{project}/mlflow.db"}
    result = run(offline(SERVE_AND_SMOKE), cwd=project, env=serving_env)
    return result, audit_log


@needs_namespace
def test_namespace_really_has_no_route_out():
    probe = subprocess.run(
        offline(
            'python3 -c "import socket; socket.create_connection('
            "('1.1.1.1', 53), timeout=2)\""
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode != 0
    assert "unreachable" in probe.stderr.lower()


@needs_namespace
def test_main_job_completes_without_network(offline_repro):
    project, result, _, _ = offline_repro
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    registration = json.loads((project / "outputs/registration.json").read_text())
    assert registration["tags"]["gate"] in {"passed", "failed"}
    assert "promotion: version=1" in result.stdout
    assert "verdict=PROMOTED" in result.stdout


@needs_namespace
def test_api_answers_a_chat_completion_without_network(offline_serving):
    result, _ = offline_serving
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "ok   GET /health" in result.stdout
    assert "POST /v1/chat/completions" in result.stdout


@needs_namespace
def test_main_job_and_api_try_to_reach_no_one(offline_repro, offline_serving):
    _, result, audit_log, _ = offline_repro
    assert result.returncode == 0, result.stderr[-3000:]
    attempts = audit_log.read_text().splitlines() if audit_log.exists() else []
    offenders = sorted({json.loads(line)["library"] for line in attempts})
    assert not attempts, f"libraries that tried the network: {offenders}"
