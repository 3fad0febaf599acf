"""Bearer-token authentication: who is calling, proven by a signed JWT.

Tokens are signed either with the shared ``JWT_SECRET`` (HMAC algorithms) or
with a key published at ``JWT_JWKS_URL`` and picked by the token's ``kid``.
Every token must name its subject (``sub``), which keys the rate limit, and
carry an expiry (``exp``), so that a leaked token stops working by itself.
"""

from __future__ import annotations

import jwt
from anyio import to_thread

from serving.errors import AuthenticationError, KeysUnavailableError
from serving.settings import ServingSettings

# Clock difference tolerated between the token issuer and this server.
LEEWAY_SECONDS = 10
REQUIRED_CLAIMS = ["exp", "sub"]

_MISSING = (
    "this endpoint needs an 'Authorization: Bearer <token>' header with a JWT "
    "issued for this service; obtain one and send it with every request"
)
_EXPIRED = "the bearer token has expired; obtain a new token and retry"
_INVALID = (
    "the bearer token is not valid: it is malformed, wrongly signed, or lacks "
    "the 'sub' and 'exp' claims; obtain a token issued for this service"
)


class TokenVerifier:
    """Checks a bearer token and returns its subject."""

    def __init__(self, settings: ServingSettings) -> None:
        self.algorithm = settings.jwt_algorithm
        self._secret = settings.jwt_secret.get_secret_value()
        self._jwks = (
            jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True, timeout=5)
            if settings.jwt_jwks_url
            else None
        )

    async def subject(self, authorization: str | None) -> str:
        """The ``sub`` of a valid token in an Authorization header value."""
        token = _bearer_token(authorization)
        key = await self._key_for(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[self.algorithm],
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError(_EXPIRED) from exc
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(_INVALID) from exc

        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise AuthenticationError(_INVALID)
        return subject

    async def _key_for(self, token: str):
        if self._jwks is None:
            return self._secret
        try:
            # PyJWKClient fetches with urllib; keep the event loop free meanwhile.
            signing_key = await to_thread.run_sync(
                self._jwks.get_signing_key_from_jwt, token
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise KeysUnavailableError(
                "the keys that verify bearer tokens cannot be fetched right now; "
                "retry shortly"
            ) from exc
        except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
            raise AuthenticationError(_INVALID) from exc
        return signing_key.key


def _bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError(_MISSING)
    return token.strip()
