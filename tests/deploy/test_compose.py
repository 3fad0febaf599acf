"""The compose stack: start order that waits for health, and settings that exist."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.deploy.conftest import DEPLOY
from tests.deploy.settings_names import serving_env_names

COMPOSE = DEPLOY / "compose.yaml"


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def interpolate(value: str) -> str:
    """Compose's `${NAME:-default}` with nothing set: the default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


def environment(service: dict) -> dict[str, str]:
    return {key: interpolate(v) for key, v in service.get("environment", {}).items()}


def test_compose_runs_the_whole_platform(services):
    assert set(services) == {
        "postgres",
        "redis",
        "mlflow",
        "gatekeeper",
        "api",
        "llama-server",
    }


def test_every_dependency_has_a_health_check_and_is_awaited_healthy(services):
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert rule["condition"] == "service_healthy", f"{name} -> {dependency}"
            check = services[dependency].get("healthcheck", {})
            assert check.get("test"), f"{dependency} has no health check"


def test_start_order_has_no_cycle(services):
    started: set[str] = set()
    pending = dict(services)
    while pending:
        ready = [
            n for n, s in pending.items() if set(s.get("depends_on", {})) <= started
        ]
        assert ready, f"depends_on cycle among {sorted(pending)}"
        for name in ready:
            started.add(name)
            del pending[name]


def test_api_waits_for_the_registry_and_redis(services):
    assert {"mlflow", "redis"} <= set(services["api"]["depends_on"])


def test_mlflow_server_stores_on_postgres_and_a_volume(services):
    mlflow = services["mlflow"]
    command = [interpolate(part) for part in mlflow["command"]]
    store = command[command.index("--backend-store-uri") + 1]
    assert store.startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in store
    artifacts = command[command.index("--artifacts-destination") + 1]
    mounts = [volume.split(":")[1] for volume in mlflow["volumes"]]
    assert artifacts in mounts, "artifacts would vanish with the container"
    assert "postgres" in mlflow["depends_on"]


def test_mlflow_can_deliver_webhooks_to_the_gatekeeper(services):
    env = environment(services["mlflow"])
    assert "http" in env["MLFLOW_WEBHOOK_ALLOWED_SCHEMES"].split(",")
    assert env["MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS"] == "true"
    gatekeeper = services["gatekeeper"]
    assert "registry.gatekeeper:app" in gatekeeper["command"]
    swap = environment(gatekeeper)["YONCA_GATEKEEPER_SERVING_SWAP_URL"]
    assert swap == "http://api:8000/admin/model/refresh"


def test_telemetry_is_off_in_every_python_service(services):
    for name in ("mlflow", "gatekeeper", "api"):
        env = environment(services[name])
        assert env["MLFLOW_DISABLE_TELEMETRY"] == "true", name
        assert env["DO_NOT_TRACK"] == "true", name


def test_api_is_configured_only_with_settings_it_reads(services):
    env = environment(services["api"])
    unknown = set(env) - serving_env_names()
    assert not unknown, f"the API ignores {sorted(unknown)}"
    assert env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert env["REDIS_URL"].startswith("redis://redis:6379")


def test_llama_server_starts_only_when_its_profile_is_asked_for(services):
    assert services["llama-server"]["profiles"] == ["llama-server"]
    assert all("profiles" not in s for n, s in services.items() if n != "llama-server")


def test_named_volumes_are_declared():
    document = yaml.safe_load(COMPOSE.read_text())
    declared = set(document["volumes"])
    for name, service in document["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name} mounts undeclared {source}"


def _compose_plugin() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _compose_plugin(), reason="no `docker compose` plugin here")
def test_docker_compose_accepts_the_file():
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
