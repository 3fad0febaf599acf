"""The main job runs with no route out and tries to reach no one.

Runs `dvc repro` from a clean state in a network namespace that has only the
loopback interface, with an audit hook in every Python process recording each
attempt to open a socket to a non-loopback address.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.project import BIN, copy_project, run

pytestmark = pytest.mark.slow
AUDIT_DIR = Path(__file__).parent / "audit"


def _namespaces_available() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


needs_namespace = pytest.mark.skipif(
    not _namespaces_available(),
    reason="needs `unshare -n` (root or user namespaces) to cut the network",
)


def offline(command: str) -> list[str]:
    """Wrap a shell command to run in a namespace with only loopback up."""
    return ["unshare", "-n", "sh", "-c", f"ip link set lo up && {command}"]


@pytest.fixture(scope="module")
def offline_repro(tmp_path_factory):
    root = tmp_path_factory.mktemp("offline")
    project = copy_project(
        root / "project",
        synthetic={"farms": 100},
        evaluation={"limit": 2, "max_tokens": 16},
    )
    audit_log = root / "network-attempts.jsonl"
    env = {
        "PYTHONPATH": f"{AUDIT_DIR}:{project}",
        "YONCA_NET_AUDIT_LOG": str(audit_log),
    }
    result = run(offline(f"{BIN / 'dvc'} repro"), cwd=project, env=env)
    return project, result, audit_log


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
    project, result, _ = offline_repro
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    registration = json.loads((project / "outputs/registration.json").read_text())
    assert registration["tags"]["gate"] in {"passed", "failed"}
    assert "promotion: version=1" in result.stdout


@needs_namespace
def test_main_job_tries_to_reach_no_one(offline_repro):
    _, result, audit_log = offline_repro
    assert result.returncode == 0, result.stderr[-3000:]
    attempts = audit_log.read_text().splitlines() if audit_log.exists() else []
    offenders = sorted({json.loads(line)["library"] for line in attempts})
    assert not attempts, f"libraries that tried the network: {offenders}"
