"""End to end: a real `mlflow server` sends its webhook to a running gatekeeper.

The alias is changed through the server's REST API, as the MLflow UI does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from registry.gatekeeper import GatekeeperSettings, create_app
from registry.store import connect, ensure_experiment
from tests.registry.conftest import MODEL, Registry
from tests.registry.test_gatekeeper import SECRET, promote_with_cli_rules
from tests.support.servers import free_port, running_server

pytestmark = pytest.mark.slow


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def mlflow_server(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
        "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
        # Every server worker must decrypt the webhook secret another one
        # stored; without a shared key each worker makes up its own.
        "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    command = [
        str(Path(sys.executable).parent / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{tmp_path / 'server.db'}",
        "--artifacts-destination",
        str(tmp_path / "server-artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(f"{url}/health"), 120, "mlflow server")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def running_gatekeeper(registry, mlflow_server, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    settings = GatekeeperSettings(
        webhook_secret=SECRET, params_file=Path("params.yaml").resolve()
    )
    with running_server(create_app(settings)) as url:
        wait_until(lambda: answers(f"{url}/healthz"), 30, "gatekeeper")
        yield f"{url}/webhooks/mlflow"


def test_ui_alias_change_to_a_failed_version_is_undone(
    registry, mlflow_server, running_gatekeeper
):
    client = connect(mlflow_server)
    remote = Registry(
        client,
        ensure_experiment(client, "golden-e2e", None),
        registry.golden,
        registry.gguf,
    )
    client.create_webhook(
        name="gatekeeper",
        url=running_gatekeeper,
        events=["model_version_alias.created"],
        secret=SECRET,
    )
    vetted = remote.register(score=0.9)
    assert promote_with_cli_rules(remote, vetted).promoted
    broken = remote.register(score=0.2)

    response = httpx.post(
        f"{mlflow_server}/api/2.0/mlflow/registered-models/alias",
        json={"name": MODEL, "alias": "production", "version": str(broken)},
    )
    assert response.status_code == 200

    wait_until(lambda: remote.alias() == vetted, 60, "the gatekeeper's revert")
    tags = client.get_model_version(MODEL, broken).tags
    assert "gate-passed" in tags["gatekeeper.refused"]
