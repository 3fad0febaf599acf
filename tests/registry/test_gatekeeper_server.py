"""End to end: a real `mlflow server` sends its webhook to a running gatekeeper.

The alias is changed through the server's REST API, as the MLflow UI does.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from registry.gatekeeper import GatekeeperSettings, create_app
from registry.store import connect, ensure_experiment
from tests.registry.conftest import MODEL, Registry
from tests.registry.test_gatekeeper import SECRET, promote_with_cli_rules
from tests.support.mlflow_server import running_mlflow_server
from tests.support.servers import answers, running_server, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def mlflow_server(tmp_path):
    with running_mlflow_server(
        f"sqlite:///{tmp_path / 'server.db'}",
        tmp_path / "server-artifacts",
        tmp_path / "server.log",
    ) as url:
        yield url


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
