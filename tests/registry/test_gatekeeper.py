"""The webhook gatekeeper undoes unvetted alias changes made outside our tools."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from registry.gatekeeper import GatekeeperSettings, create_app
from registry.promotion import promote
from registry.webhook import sign
from tests.registry.conftest import MODEL
from tests.support.tiny_gguf import write_tiny_gguf
from yonca.hashing import sha256_file

SECRET = "a-long-webhook-secret-for-tests"
SWAP_URL = "http://serving.test/admin/swap"
REFRESH_TOKEN = "serving-refresh-token"


@pytest.fixture
def swaps() -> list[dict]:
    return []


@pytest.fixture
def gatekeeper(registry, swaps) -> TestClient:
    def serving(request: httpx.Request) -> httpx.Response:
        # Serving refuses a swap notice without its refresh token.
        if request.headers.get("Authorization") != f"Bearer {REFRESH_TOKEN}":
            return httpx.Response(401)
        swaps.append(json.loads(request.content))
        return httpx.Response(200)

    settings = GatekeeperSettings(
        webhook_secret=SECRET,
        serving_swap_url=SWAP_URL,
        serving_refresh_token=REFRESH_TOKEN,
        params_file=Path("params.yaml"),
    )
    notifier = httpx.Client(transport=httpx.MockTransport(serving))
    return TestClient(create_app(settings, http_client=notifier))


def delivery(version, *, alias="production", secret=SECRET, sent=None):
    """Body and headers exactly as MLflow sends them for an alias change."""
    body = json.dumps(
        {
            "entity": "model_version_alias",
            "action": "created",
            "timestamp": "2026-01-01T00:00:00+00:00",
            "data": {"name": MODEL, "alias": alias, "version": str(version)},
        }
    ).encode()
    delivery_id, timestamp = str(uuid.uuid4()), str(int(sent or time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-MLflow-Delivery-Id": delivery_id,
        "X-MLflow-Timestamp": timestamp,
        "X-MLflow-Signature": sign(secret, delivery_id, timestamp, body),
    }
    return body, headers


def post(gatekeeper, body, headers):
    return gatekeeper.post("/webhooks/mlflow", content=body, headers=headers)


def ui_moves_production(registry, version):
    """What clicking 'add alias' in the MLflow UI does to the store."""
    registry.client.set_registered_model_alias(MODEL, "production", version)


def promote_with_cli_rules(registry, version, reason=None):
    config = registry.config
    return promote(
        registry.client,
        MODEL,
        registry.client.get_model_version(MODEL, version),
        alias="production",
        threshold=config.threshold,
        current_golden_sha256=config.golden_set_sha256(),
        max_category_drop=config.max_category_drop,
        force_reason=reason,
        source="cli",
    )


def history(registry) -> list[str]:
    from registry.audit import read_events

    return [event.line() for event in read_events(registry.client, MODEL)]


def test_unvetted_ui_promotion_is_put_back_on_the_vetted_version(
    registry, gatekeeper, swaps
):
    vetted = registry.register(score=0.9)
    assert promote_with_cli_rules(registry, vetted).promoted
    broken = registry.register(score=0.3)
    ui_moves_production(registry, broken)

    response = post(gatekeeper, *delivery(broken))

    assert response.status_code == 200
    assert response.json()["status"] == "reverted"
    assert registry.alias() == vetted
    refused = registry.client.get_model_version(MODEL, broken).tags
    assert "gate-passed" in refused["gatekeeper.refused"]
    assert any(
        f"revert production {broken} -> {vetted}" in x for x in history(registry)
    )
    assert swaps == []


def test_vetted_ui_promotion_is_confirmed_and_serving_told_to_swap(
    registry, gatekeeper, swaps
):
    first = registry.register(score=0.9)
    assert promote_with_cli_rules(registry, first).promoted
    second = registry.register(score=0.92)
    ui_moves_production(registry, second)

    response = post(gatekeeper, *delivery(second))

    assert response.json()["status"] == "confirmed"
    assert registry.alias() == second
    assert swaps == [{"model_name": MODEL, "alias": "production", "version": "2"}]
    line = f"confirmation production {first} -> {second}"
    assert any(line in entry for entry in history(registry))


def test_unvetted_version_without_a_vetted_predecessor_loses_the_alias(
    registry, gatekeeper
):
    broken = registry.register(score=0.3)
    ui_moves_production(registry, broken)

    response = post(gatekeeper, *delivery(broken))

    assert response.json()["status"] == "cleared"
    assert registry.alias() is None


def test_recorded_override_is_honoured(registry, gatekeeper):
    vetted = registry.register(score=0.9)
    assert promote_with_cli_rules(registry, vetted).promoted
    forced = registry.register(score=0.3)
    assert promote_with_cli_rules(
        registry, forced, reason="hotfix approved by on-call"
    ).promoted

    response = post(gatekeeper, *delivery(forced))

    assert response.json()["status"] == "confirmed"
    assert registry.alias() == forced


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda body, headers: (
                body,
                {**headers, "X-MLflow-Signature": sign("wrong-secret", "x", "1", body)},
            ),
            id="forged",
        ),
        pytest.param(
            lambda body, headers: (body.replace(b'"1"', b'"2"'), headers),
            id="body-changed",
        ),
        pytest.param(
            lambda body, headers: (body, {"Content-Type": "application/json"}),
            id="unsigned",
        ),
    ],
)
def test_badly_signed_delivery_gets_401_and_changes_nothing(
    registry, gatekeeper, tamper
):
    broken = registry.register(score=0.3)
    ui_moves_production(registry, broken)

    response = post(gatekeeper, *tamper(*delivery(broken)))

    assert response.status_code == 401
    assert "Traceback" not in response.text
    assert registry.alias() == broken
    assert history(registry) == []


def test_stale_delivery_gets_401(registry, gatekeeper):
    broken = registry.register(score=0.3)
    ui_moves_production(registry, broken)

    response = post(gatekeeper, *delivery(broken, sent=time.time() - 3600))

    assert response.status_code == 401
    assert registry.alias() == broken


def test_replayed_delivery_gets_401(registry, gatekeeper):
    vetted = registry.register(score=0.9)
    ui_moves_production(registry, vetted)
    body, headers = delivery(vetted)

    assert post(gatekeeper, body, headers).status_code == 200
    assert post(gatekeeper, body, headers).status_code == 401


def test_other_aliases_are_left_alone(registry, gatekeeper):
    broken = registry.register(score=0.3)
    registry.client.set_registered_model_alias(MODEL, "staging", broken)

    response = post(gatekeeper, *delivery(broken, alias="staging"))

    assert response.json()["status"] == "ignored"
    assert registry.alias("staging") == broken


def test_placeholder_secret_is_refused_outside_development():
    with pytest.raises(ValueError, match="placeholder"):
        GatekeeperSettings(webhook_secret="change-me", environment="production")


@pytest.fixture
def live_api(registry, tracking_uri, tmp_path):
    """A running API over the registry that never polls: only a notice swaps it."""
    from serving.app import create_app as create_api
    from tests.serving.conftest import make_settings
    from tests.support.servers import running_server

    settings = make_settings(
        tracking_uri,
        tmp_path / "serving-cache",
        model_refresh_token=REFRESH_TOKEN,
    )
    with running_server(create_api(settings)) as base_url:
        yield base_url


def served_version(base_url: str) -> str | None:
    model = httpx.get(f"{base_url}/ready", timeout=10).json().get("model")
    return model["version"] if model else None


def refresh_api(base_url: str) -> None:
    """What the promote command's caller does: tell the API the alias moved."""
    response = httpx.post(
        f"{base_url}/admin/model/refresh",
        headers={"Authorization": f"Bearer {REFRESH_TOKEN}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def test_confirmed_ui_promotion_swaps_a_running_api_that_does_not_poll(
    registry, live_api, tmp_path
):
    first = registry.register(score=0.9)
    assert promote_with_cli_rules(registry, first).promoted
    refresh_api(live_api)
    assert served_version(live_api) == str(first)
    registry.gguf = write_tiny_gguf(tmp_path / "other.gguf", seed=7)
    second = registry.register(score=0.93)
    ui_moves_production(registry, second)
    notifier = httpx.Client(timeout=30)
    gatekeeper = TestClient(
        create_app(
            GatekeeperSettings(
                webhook_secret=SECRET,
                serving_swap_url=f"{live_api}/admin/model/refresh",
                serving_refresh_token=REFRESH_TOKEN,
                params_file=Path("params.yaml"),
            ),
            http_client=notifier,
        )
    )

    response = post(gatekeeper, *delivery(second))

    # The API answered the notice only after swapping: no wait needed here.
    assert response.json()["status"] == "confirmed"
    ready = httpx.get(f"{live_api}/ready", timeout=10).json()
    assert ready["model"]["version"] == str(second)
    assert ready["model"]["sha256"] == sha256_file(registry.gguf)
    notifier.close()
