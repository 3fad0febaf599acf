"""The gatekeeper: a webhook receiver that holds the gate for MLflow UI changes.

Register it in MLflow for ``model_version_alias.created`` with a secret, then
run ``uvicorn --factory registry.gatekeeper:app``. Each delivery is authenticated
(401 and no change otherwise); a change of the guarded alias to an unvetted
version is undone, and a vetted one is confirmed and announced to serving.

Status codes: 200 reviewed or ignored, 400 malformed payload, 401 failed
authentication, 503 the registry could not be reached (MLflow retries).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Literal

import httpx
import structlog
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from registry.errors import RegistryError, SignatureError
from registry.guard import Review, review_alias_change
from registry.webhook import DeliveryVerifier

log = structlog.get_logger("registry")

EVENT = ("model_version_alias", "created")
PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "development"}


class GatekeeperSettings(BaseSettings):
    """The gatekeeper's settings, from ``YONCA_GATEKEEPER_*`` and ``.env``."""

    model_config = SettingsConfigDict(
        env_prefix="YONCA_GATEKEEPER_", env_file=".env", extra="ignore"
    )

    webhook_secret: SecretStr = SecretStr("development")
    serving_swap_url: str | None = None
    # Sent as a bearer token with each swap notice; serving's MODEL_REFRESH_TOKEN.
    serving_refresh_token: SecretStr | None = None
    max_skew_seconds: int = 300
    params_file: Path = Path("params.yaml")
    environment: Literal["development", "staging", "production"] = "development"

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> GatekeeperSettings:
        secret = self.webhook_secret.get_secret_value()
        if self.environment != "development" and secret in PLACEHOLDER_SECRETS:
            raise ValueError(
                "YONCA_GATEKEEPER_WEBHOOK_SECRET is a placeholder; set the secret "
                "the MLflow webhook was created with."
            )
        return self


class _Registry:
    """Opens the MLflow client on first use and serialises reviews."""

    def __init__(self, params_file: Path) -> None:
        self._params_file = params_file
        self._client = None
        self.lock = threading.Lock()

    def review(self, name: str, alias: str, version: str) -> Review:
        from registry.config import load_config
        from registry.store import connect

        with self.lock:
            config = load_config(self._params_file)
            if self._client is None:
                self._client = connect(config.tracking_uri)
            return review_alias_change(self._client, config, name, alias, version)


def create_app(
    settings: GatekeeperSettings | None = None,
    http_client: httpx.Client | None = None,
) -> FastAPI:
    """Build the gatekeeper app; ``http_client`` carries the swap notices."""
    settings = settings or GatekeeperSettings()
    verifier = DeliveryVerifier(
        settings.webhook_secret.get_secret_value(), settings.max_skew_seconds
    )
    registry = _Registry(settings.params_file)
    notifier = http_client or httpx.Client(timeout=5.0)
    app = FastAPI(title="Yonca registry gatekeeper")

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.post("/webhooks/mlflow")
    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        try:
            delivery_id = verifier.verify(request.headers, body)
        except SignatureError as exc:
            log.warning("gatekeeper.unauthenticated", why=str(exc))
            return _error(401, "delivery failed authentication; nothing changed")

        change = _alias_change(body)
        if change is None:
            verifier.remember(delivery_id)
            return _error(400, "not a model_version_alias.created payload")
        try:
            review = await run_in_threadpool(registry.review, *change)
        except RegistryError as exc:
            log.error("gatekeeper.registry_failed", error=str(exc))
            return _error(503, "registry unreachable; the change was not reviewed")

        verifier.remember(delivery_id)
        if review.status == "confirmed":
            await run_in_threadpool(_announce, notifier, settings, change, review)
        return JSONResponse(_review_body(review))

    return app


def _alias_change(body: bytes) -> tuple[str, str, str] | None:
    """(model name, alias, version) of an alias-created payload, else None."""
    try:
        payload = json.loads(body)
        data = payload["data"]
        if (payload["entity"], payload["action"]) != EVENT:
            return None
        return str(data["name"]), str(data["alias"]), str(data["version"])
    except (ValueError, KeyError, TypeError):
        return None


def _announce(client: httpx.Client, settings, change, review: Review) -> None:
    """Tell serving to swap to the confirmed version; failures are only logged."""
    if not settings.serving_swap_url:
        return
    name, alias, _ = change
    payload = {"model_name": name, "alias": alias, "version": review.model_version}
    token = settings.serving_refresh_token
    headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}
    try:
        response = client.post(settings.serving_swap_url, json=payload, headers=headers)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        # Serving also follows the alias on its own; this notice only speeds it up.
        log.warning("gatekeeper.swap_notice_failed", error=str(exc))


def _review_body(review: Review) -> dict:
    return {
        "status": review.status,
        "model_version": review.model_version,
        "alias_now": review.alias_now,
        "failed_rules": list(review.failures),
    }


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def app() -> FastAPI:
    """Factory for ``uvicorn --factory registry.gatekeeper:app``."""
    from yonca.logs import configure_logging
    from yonca.privacy import disable_telemetry

    disable_telemetry()
    configure_logging()
    return create_app()
