"""Who may call the OpenAI routes, and how often: checked before anything else.

Written as plain ASGI and placed in front of routing, so that a caller without
a valid token or past its rate limit is turned away before its body is read.
Only ``/v1/...`` is guarded: ``/health``, ``/ready`` and ``/metrics`` stay open
for probes and scrapers, and the refresh hook has its own token.
"""

from __future__ import annotations

import structlog
from starlette.datastructures import Headers

from serving.auth import TokenVerifier
from serving.error_handlers import response_for
from serving.errors import RateLimitedError, ServingError
from serving.rate_limit import RateLimiter

log = structlog.get_logger("serving")

GUARDED_PREFIX = "/v1/"


class AccessControl:
    """Authenticates (when enabled) and rate-limits every ``/v1/`` request."""

    def __init__(
        self, app, verifier: TokenVerifier | None, limiter: RateLimiter
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.limiter = limiter

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(GUARDED_PREFIX):
            await self.app(scope, receive, send)
            return

        try:
            caller = await self._caller(scope)
            await self._spend(caller)
        except ServingError as exc:
            if exc.status_code >= 500:
                cause = repr(exc.__cause__) if exc.__cause__ else None
                log.error("access.check_failed", reason=exc.message, cause=cause)
            await response_for(exc)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _caller(self, scope) -> str:
        """The rate-limit key: the token's subject, else the client address."""
        if self.verifier is not None:
            authorization = Headers(scope=scope).get("authorization")
            return "sub:" + await self.verifier.subject(authorization)
        # Behind a proxy, run uvicorn with --forwarded-allow-ips so that this
        # is the client's address rather than the proxy's.
        client = scope.get("client")
        return "ip:" + (client[0] if client else "unknown")

    async def _spend(self, caller: str) -> None:
        wait = await self.limiter.check(caller)
        if wait is None:
            return
        limit = self.limiter.limit
        per_minute = round(limit.per_second * 60)
        raise RateLimitedError(
            f"rate limit reached: {per_minute} requests per minute with bursts "
            f"of {limit.burst}; retry after {wait} s (the Retry-After header)",
            retry_after=wait,
        )
