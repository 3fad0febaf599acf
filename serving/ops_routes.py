"""Operational routes: liveness, readiness, metrics and the model refresh hook."""

from __future__ import annotations

import hmac
import math

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from serving.errors import AuthenticationError
from serving.model_manager import ModelManager, Outcome
from serving.services import AnswerSource, Services

router = APIRouter()

REFRESH_STATUS = {
    Outcome.SWAPPED: 200,
    Outcome.UNCHANGED: 200,
    Outcome.NO_ALIAS: 200,
    Outcome.REFUSED: 409,
    Outcome.REGISTRY_UNAVAILABLE: 503,
}


# HEAD answers wherever GET does, as HTTP asks: probes and monitors use it.
@router.get("/health")
@router.head("/health", include_in_schema=False)
async def health() -> dict:
    """The process is up and its event loop answers."""
    return {"status": "ok"}


@router.get("/ready")
@router.head("/ready", include_in_schema=False)
async def ready(request: Request) -> JSONResponse:
    """200 with the model's record while a vetted model is loaded, else 503.

    Rules chosen with DEGRADATION_LEVEL=rules_only are the configured service,
    so they report 200 "degraded". Rules standing in for a model that could
    not be loaded still report 503: a load balancer should prefer a replica
    that has a model, and an operator's alert should fire.
    """
    services: Services = request.app.state.services
    source = services.answer_source()
    if source is AnswerSource.RULES_CHOSEN:
        return JSONResponse(RULES_CHOSEN_READINESS)

    body = readiness(services.manager)
    if source is AnswerSource.RULES_FALLBACK:
        body["answering"] = "rules_only"
    return JSONResponse(body, status_code=200 if body["status"] == "ready" else 503)


RULES_CHOSEN_READINESS = {
    "status": "degraded",
    "answering": "rules_only",
    "reason": (
        "DEGRADATION_LEVEL is rules_only, so no model is loaded and answers "
        "come from the rule-based adviser; set DEGRADATION_LEVEL=none to serve "
        "the vetted model"
    ),
}


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text exposition of the service's metrics."""
    services: Services = request.app.state.services
    return Response(services.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.post("/admin/model/refresh")
async def refresh_model(request: Request) -> JSONResponse:
    """Follow the alias now; the registry's gatekeeper calls this when it moves."""
    services: Services = request.app.state.services
    _check_refresh_token(request, services)
    if services.answer_source() is AnswerSource.RULES_CHOSEN:
        # Loading a model nobody will be answered by would only take memory.
        return JSONResponse({"outcome": "ignored", **RULES_CHOSEN_READINESS})
    outcome = await to_thread.run_sync(services.manager.refresh)
    body = {"outcome": outcome.value, **readiness(services.manager)}
    return JSONResponse(body, status_code=REFRESH_STATUS[outcome])


def readiness(manager: ModelManager) -> dict:
    """The readiness record: what is served, from where, and what was refused."""
    registry = {None: "unknown", True: "reachable", False: "unreachable"}
    body: dict = {"registry": registry[manager.registry_reachable]}
    refusal = manager.last_refusal
    if refusal is not None:
        body["last_refusal"] = {"version": refusal.version, "reason": refusal.reason}

    served = manager.current
    if served is None:
        return {"status": "not_ready", "reason": manager.not_ready_reason(), **body}

    info = served.info
    score = None if math.isnan(info.golden_score) else info.golden_score
    body["model"] = {
        "name": info.name,
        "version": info.version,
        "sha256": info.sha256,
        "golden_score": score,
        "source": served.source,
    }
    if served.engine.problem is not None:
        reason = f"version {info.version} cannot be served: {served.engine.problem}"
        return {"status": "not_ready", "reason": reason, **body}
    if served.source == "cache":
        body["warning"] = (
            "the registry could not be reached at start, so the last vetted model "
            "is served from the local cache; the alias is followed again once the "
            "registry answers"
        )
    return {"status": "ready", **body}


def _check_refresh_token(request: Request, services: Services) -> None:
    expected = services.settings.model_refresh_token
    if expected is None:
        return
    supplied = request.headers.get("authorization", "").removeprefix("Bearer ")
    if not hmac.compare_digest(supplied.encode(), expected.get_secret_value().encode()):
        raise AuthenticationError(
            "the model refresh hook needs 'Authorization: Bearer <token>' with the "
            "token set in MODEL_REFRESH_TOKEN"
        )
