"""Exceptions raised by the serving package.

ServingError
├── ConfigurationError        the settings cannot run this service
├── ModelRefusedError         a model version fails its checks and is not loaded
│   ├── ModelLoadError        llama.cpp could not load a vetted GGUF
│   └── EngineMismatchError   llama-server is down or serves another GGUF
├── NotReadyError             no vetted model is loaded yet
├── EngineUnavailableError    llama-server stopped answering a request
├── EngineError               llama-server refused a request this service built
├── QueueFullError            every waiting place in front of the model is taken
├── KeysUnavailableError      the JWKS endpoint that verifies tokens cannot be read
└── ClientError               the request itself is wrong; never the server's fault
    ├── InvalidRequestError   malformed body, wrong type, unsupported parameter
    ├── ContextWindowError    prompt plus max_tokens do not fit the context window
    ├── UnknownModelError     the request names a model this server does not serve
    ├── AuthenticationError   missing, invalid or expired bearer token
    └── RateLimitedError      the caller spent its burst; retry after a while

Each error maps to one HTTP status through ``status_code``; ``code`` and
``param`` fill the OpenAI error body. Messages of the errors marked ``public``
are written for the client and safe to send; every other message stays in the
logs.
"""

from __future__ import annotations


class ServingError(Exception):
    """Base class of every error the serving package raises."""

    status_code = 500
    error_type = "server_error"
    code: str | None = None
    public = False
    retry_after: int | None = None

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class ConfigurationError(ServingError):
    """The settings are inconsistent or unsafe for this environment."""


class ModelRefusedError(ServingError):
    """A model version is not vetted, or its artifact does not match its record."""

    # A refused version is not tried again until the alias moves; see
    # EngineMismatchError for the exception.
    retryable = False


class ModelLoadError(ModelRefusedError):
    """llama.cpp failed to load a GGUF that passed its checks."""


class EngineMismatchError(ModelRefusedError):
    """llama-server cannot be shown to serve the vetted GGUF right now.

    Unlike the other refusals this is about the engine, not the version: the
    same version is tried again at the next refresh, once llama-server runs
    on the vetted file.
    """

    retryable = True


class NotReadyError(ServingError):
    """No vetted model is loaded, so no request can be answered."""

    status_code = 503
    error_type = "service_unavailable"
    code = "model_not_ready"
    public = True


class EngineUnavailableError(ServingError):
    """llama-server is unreachable, overloaded or answered with something broken."""

    status_code = 503
    error_type = "service_unavailable"
    code = "engine_unavailable"
    public = True

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"the model server cannot answer now ({reason}); retry in a few "
            "seconds, and tell the operator if it keeps failing"
        )
        self.reason = reason


class EngineError(ServingError):
    """llama-server rejected a request that this service built: a bug here."""


class QueueFullError(ServingError):
    """The bounded queue in front of the model is full."""

    status_code = 429
    error_type = "rate_limit_error"
    code = "queue_full"
    public = True

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class KeysUnavailableError(ServingError):
    """The JWKS endpoint cannot be read, so no token can be verified now."""

    status_code = 503
    error_type = "service_unavailable"
    code = "auth_keys_unavailable"
    public = True


class ClientError(ServingError):
    """The request is wrong; its message tells the client what to change."""

    status_code = 400
    error_type = "invalid_request_error"
    public = True


class InvalidRequestError(ClientError):
    """The body is not valid JSON, has a wrong type or an unsupported field."""

    code = "invalid_request"


class ContextWindowError(ClientError):
    """Prompt tokens plus ``max_tokens`` exceed the model's context window."""

    code = "context_length_exceeded"


class UnknownModelError(ClientError):
    """The ``model`` field names a model this server does not serve."""

    status_code = 404
    code = "model_not_found"


class AuthenticationError(ClientError):
    """The bearer token is missing, malformed, wrongly signed or expired."""

    status_code = 401
    error_type = "authentication_error"
    code = "invalid_token"


class RateLimitedError(ClientError):
    """The caller's token bucket is empty."""

    status_code = 429
    error_type = "rate_limit_error"
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
