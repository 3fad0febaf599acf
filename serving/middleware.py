"""Per-request bookkeeping: request id, metrics by route and status, one log line.

Written as plain ASGI so that a streamed answer is timed to its last byte.
"""

from __future__ import annotations

import time
import uuid

import structlog

from serving.metrics import ServingMetrics

log = structlog.get_logger("serving")

REQUEST_ID_HEADER = b"x-request-id"


class RequestAccounting:
    """Counts, times and logs every HTTP request once it has fully answered."""

    def __init__(self, app, metrics: ServingMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", [])]
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._account(scope, status, time.perf_counter() - started)

    def _account(self, scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", "unmatched")
        self.metrics.requests.labels(route, str(status)).inc()
        self.metrics.latency.labels(route).observe(seconds)
        state = scope.get("state", {})
        job = state.get("job")
        log.info(
            "http.request",
            request_id=state.get("request_id"),
            method=scope["method"],
            route=route,
            status=status,
            latency_ms=round(seconds * 1000, 1),
            model_version=job.served.info.version if job else None,
            completion_tokens=job.completion_tokens if job else None,
        )


def _request_id(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER:
            supplied = value.decode("latin-1")[:128]
            if supplied.isprintable():
                return supplied
    return uuid.uuid4().hex
