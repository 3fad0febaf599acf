"""The Kubernetes overlays render, validate against the API schemas, and agree.

Rendering uses kustomize (the one built into kubectl, or a standalone binary);
validation uses the schemas shipped inside the kubernetes-validate package,
so nothing is fetched.
"""

from __future__ import annotations

import shutil
import subprocess

import kubernetes_validate
import pytest
import yaml

from tests.deploy.conftest import DEPLOY
from tests.deploy.settings_names import serving_env_names

OVERLAYS = ("dev", "staging", "production")
# The oldest cluster version the manifests must still apply to.
KUBERNETES_VERSION = "1.30.0"


def render(overlay: str) -> list[dict]:
    path = DEPLOY / "k8s" / "overlays" / overlay
    if shutil.which("kustomize"):
        command = ["kustomize", "build", str(path)]
    elif shutil.which("kubectl"):
        command = ["kubectl", "kustomize", str(path)]
    else:
        pytest.skip("neither kustomize nor kubectl is installed")
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request) -> tuple[str, dict[str, list[dict]]]:
    by_kind: dict[str, list[dict]] = {}
    for doc in render(request.param):
        by_kind.setdefault(doc["kind"], []).append(doc)
    return request.param, by_kind


def one(by_kind: dict, kind: str) -> dict:
    assert len(by_kind.get(kind, [])) == 1, f"expected one {kind}"
    return by_kind[kind][0]


def container(by_kind: dict) -> dict:
    return one(by_kind, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def config(by_kind: dict) -> dict[str, str]:
    return one(by_kind, "ConfigMap")["data"]


def test_every_manifest_is_valid_for_the_kubernetes_api(rendered):
    overlay, by_kind = rendered
    for docs in by_kind.values():
        for doc in docs:
            try:
                kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                name = doc["metadata"]["name"]
                pytest.fail(f"{overlay}: {doc['kind']} {name}: {exc.message}")


def test_validator_rejects_a_broken_deployment(rendered):
    _, by_kind = rendered
    broken = yaml.safe_load(yaml.safe_dump(one(by_kind, "Deployment")))
    broken["spec"]["template"]["spec"]["containers"][0]["ports"] = "8000"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_probes_use_ready_for_traffic_and_health_for_restarts(rendered):
    _, by_kind = rendered
    api = container(by_kind)
    port_names = {port["name"] for port in api["ports"]}
    assert api["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert api["livenessProbe"]["httpGet"]["path"] == "/health"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert api[probe]["httpGet"]["port"] in port_names, probe


def test_model_cache_volume_is_mounted_where_the_api_keeps_models(rendered):
    _, by_kind = rendered
    api = container(by_kind)
    mounts = {m["name"]: m["mountPath"] for m in api["volumeMounts"]}
    assert mounts["model-cache"] == config(by_kind)["MODEL_CACHE_DIR"]
    pod = one(by_kind, "Deployment")["spec"]["template"]["spec"]
    assert "model-cache" in {volume["name"] for volume in pod["volumes"]}


def test_container_has_resource_requests_and_limits(rendered):
    _, by_kind = rendered
    resources = container(by_kind)["resources"]
    for key in ("cpu", "memory"):
        assert key in resources["requests"] and key in resources["limits"]


def test_settings_come_from_the_rendered_config_map_and_the_secret(rendered):
    _, by_kind = rendered
    sources = container(by_kind)["envFrom"]
    config_names = {doc["metadata"]["name"] for doc in by_kind["ConfigMap"]}
    assert sources[0]["configMapRef"]["name"] in config_names
    assert sources[1]["secretRef"]["name"] == "yonca-api-secrets"
    assert "Secret" not in by_kind, "secret values must not live in git"


def test_config_map_holds_only_settings_the_api_reads(rendered):
    _, by_kind = rendered
    unknown = set(config(by_kind)) - serving_env_names()
    assert not unknown, f"the API ignores {sorted(unknown)}"


def test_overlay_sets_its_environment_and_a_pinned_image(rendered):
    overlay, by_kind = rendered
    expected = {"dev": "development"}.get(overlay, overlay)
    assert config(by_kind)["ENVIRONMENT"] == expected
    image = container(by_kind)["image"]
    assert "/" in image and ":" in image.rsplit("/", 1)[1], image
    assert not image.endswith(":latest")


def test_service_ingress_and_autoscaler_reach_the_deployment(rendered):
    _, by_kind = rendered
    deployment = one(by_kind, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = one(by_kind, "Service")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    backend = one(by_kind, "Ingress")["spec"]["rules"][0]["http"]["paths"][0]
    assert backend["backend"]["service"]["name"] == service["metadata"]["name"]
    target = one(by_kind, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert target["name"] == deployment["metadata"]["name"]


def test_only_production_asks_for_gpus(rendered):
    overlay, by_kind = rendered
    api = container(by_kind)
    pod = one(by_kind, "Deployment")["spec"]["template"]["spec"]
    gpus = api["resources"]["limits"].get("nvidia.com/gpu")
    if overlay == "production":
        assert gpus == "1"
        assert api["resources"]["requests"]["nvidia.com/gpu"] == "1"
        assert any(t["key"] == "nvidia.com/gpu" for t in pod["tolerations"])
        assert config(by_kind)["LLAMA_N_GPU_LAYERS"] == "-1"
        assert container(by_kind)["image"].endswith("-cuda")
    else:
        assert gpus is None
        assert "tolerations" not in pod
