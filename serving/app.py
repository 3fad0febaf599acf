"""The FastAPI application: ``uvicorn serving.app:app`` or ``yonca serve``.

``create_app`` builds an app from explicit settings (tests, benchmarks);
the module attribute ``app`` is built on first access from the environment,
so importing this module reads no settings and loads no model.
"""

from __future__ import annotations

import asyncio
import sys
from contextlib import asynccontextmanager, suppress

import structlog
from fastapi import FastAPI

from serving import error_handlers
from serving.access import AccessControl
from serving.auth import TokenVerifier
from serving.body_limit import BodySizeLimit
from serving.errors import ConfigurationError
from serving.metrics import ServingMetrics
from serving.middleware import RequestAccounting
from serving.model_manager import ModelManager
from serving.openai_routes import router as openai_router
from serving.ops_routes import router as ops_router
from serving.queue import GenerationQueue
from serving.rate_limit import RateLimiter
from serving.services import Services
from serving.settings import DegradationLevel, ServingSettings, load_settings

log = structlog.get_logger("serving")


def create_app(
    settings: ServingSettings | None = None, manager: ModelManager | None = None
) -> FastAPI:
    """An inference API over ``manager`` (built from ``settings`` when omitted)."""
    settings = settings or load_settings()
    metrics = manager.metrics if manager else ServingMetrics()
    manager = manager or ModelManager(settings, metrics)
    services = Services(
        settings=settings,
        manager=manager,
        queue=GenerationQueue(
            settings.max_queued_requests, metrics, manager.generation_slots
        ),
        metrics=metrics,
        limiter=RateLimiter(settings),
        verifier=TokenVerifier(settings) if settings.auth_enabled else None,
    )

    app = FastAPI(
        title="Yonca inference API",
        summary="OpenAI-compatible answers from the vetted production model.",
        lifespan=_lifespan,
    )
    app.state.services = services
    app.include_router(openai_router)
    app.include_router(ops_router)
    error_handlers.install(app)
    # The last added runs first: requests are counted even when turned away.
    app.add_middleware(
        AccessControl, verifier=services.verifier, limiter=services.limiter
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestAccounting, metrics=metrics)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI):
    services: Services = app.state.services
    manager = services.manager
    rules_only = services.settings.degradation_level is DegradationLevel.RULES_ONLY
    # Load in the background so /health answers while a large model loads.
    # With rules_only no model is loaded at all: the rules need none.
    loading = None if rules_only else asyncio.create_task(_load_then_poll(manager))
    engine = "llama-server" if services.settings.llama_server_url else "in-process"
    log.info(
        "serving.started",
        rules_only=rules_only,
        auth=bool(services.verifier),
        engine=engine,
    )
    try:
        yield
    finally:
        if loading is not None:
            loading.cancel()
            with suppress(asyncio.CancelledError):
                await loading
        manager.close()
        await services.limiter.close()
        # uvicorn calls this only after the requests in flight have answered.
        log.info("serving.stopped")


async def _load_then_poll(manager: ModelManager) -> None:
    try:
        await asyncio.to_thread(manager.start)
    except Exception:  # the service stays up, not ready, and polling retries
        log.exception("model.start_failed")
    await manager.poll()


_app: FastAPI | None = None


def __getattr__(name: str) -> FastAPI:
    """Build ``app`` on first access, configuring logging from the settings."""
    global _app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _app is None:
        from yonca.logs import configure_logging
        from yonca.privacy import disable_telemetry

        try:
            settings = load_settings()
            disable_telemetry()
            configure_logging(settings.log_level, settings.log_format.value)
            _app = create_app(settings)
        except ConfigurationError as exc:
            # uvicorn would print a traceback around the message; the
            # message alone says what to fix.
            sys.stderr.write(f"error: {exc}\n")
            raise SystemExit(2) from None
    return _app
