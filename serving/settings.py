"""The serving settings: one validated object, read from the environment and `.env`.

Names follow the operations runbook where it has one (``API_HOST``,
``LLM_CONTEXT_SIZE``, ``LLAMA_N_GPU_LAYERS`` ...); the rest say what they set.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from serving.errors import ConfigurationError

# Secrets shipped in examples and defaults; a shared environment must set its own.
PLACEHOLDER_SECRETS = frozenset(
    {"", "change-me", "changeme", "secret", "your-secret-key-here"}
)


# Algorithms a token may be signed with: HMAC with JWT_SECRET, or RSA and EC
# keys published at JWT_JWKS_URL. "none" is never accepted.
SIGNING_ALGORITHMS = frozenset(
    {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384"}
)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


MAX_CONTEXT_SIZE = 1 << 20
# The level names uvicorn and logging share; WARN is read as WARNING.
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
REDIS_SCHEMES = ("redis", "rediss", "unix")


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"


class DegradationLevel(StrEnum):
    """``none`` answers with the model; ``rules_only`` never loads one.

    With ``none`` the service still answers from the rules when no vetted
    model can be loaded, rather than refusing every request.
    """

    NONE = "none"
    RULES_ONLY = "rules_only"


class ServingSettings(BaseSettings):
    """Everything the inference API reads from its environment."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # An empty line in .env (`REDIS_URL=`) means "use the default".
        env_ignore_empty=True,
        protected_namespaces=(),
    )

    environment: Environment = Environment.DEVELOPMENT

    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)

    mlflow_tracking_uri: str = "sqlite:///mlflow.db"
    model_name: str = "yonca-agri"
    model_alias: str = "production"
    model_cache_dir: Path = Path("models/serving-cache")
    model_poll_interval_seconds: float = Field(30.0, ge=0)
    model_refresh_token: SecretStr | None = None

    # 2**20 tokens is beyond every GGUF's training context; a larger value is
    # a typo that would have llama.cpp allocate gigabytes of KV cache.
    llm_context_size: int = Field(4096, ge=64, le=MAX_CONTEXT_SIZE)
    llm_max_tokens: int = Field(1000, ge=1)
    llm_temperature: float = Field(0.7, ge=0, le=2)
    llama_n_gpu_layers: int = Field(0, ge=-1)
    llama_n_threads: int | None = Field(None, ge=1)
    # Generations the in-process engine decodes together in one context, each
    # with LLM_CONTEXT_SIZE tokens of its own (llama-server's --parallel).
    llama_n_parallel: int = Field(4, ge=1, le=64)
    # llama.cpp's llama-server as the engine instead of llama-cpp-python in
    # process; it must run on the vetted GGUF (see serving/llama_server.py).
    llama_server_url: str | None = None
    llama_server_api_key: SecretStr | None = None
    # Generations sent to llama-server at once; unset: its slot count.
    llama_server_slots: int | None = Field(None, ge=1)
    llama_server_timeout_seconds: float = Field(120.0, gt=0)
    max_queued_requests: int = Field(16, ge=0)
    max_request_bytes: int = Field(1_048_576, ge=1024)

    auth_enabled: bool = False
    jwt_secret: SecretStr = SecretStr("change-me")
    jwt_algorithm: str = "HS256"
    jwt_jwks_url: str | None = None
    rate_limit_requests_per_minute: int = Field(30, ge=1)
    rate_limit_burst: int = Field(50, ge=1)
    redis_url: str | None = None

    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.CONSOLE
    degradation_level: DegradationLevel = DegradationLevel.NONE

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        level = "WARNING" if level == "WARN" else level
        if level not in LOG_LEVELS:
            raise ValueError(
                f"'{value}' is not a log level; use one of {', '.join(LOG_LEVELS)}"
            )
        return level

    @field_validator("redis_url")
    @classmethod
    def _redis_address(cls, value: str | None) -> str | None:
        if value is not None and not _is_redis_url(value):
            raise ValueError(
                f"'{value[:80]}' is not a Redis address; write it as "
                "redis://host:6379/0 (rediss:// for TLS, unix:///path/to/socket)"
            )
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> ServingSettings:
        if self.llm_max_tokens >= self.llm_context_size:
            raise ValueError(
                f"LLM_MAX_TOKENS ({self.llm_max_tokens}) must be below "
                f"LLM_CONTEXT_SIZE ({self.llm_context_size}) to leave room for "
                "the prompt; lower LLM_MAX_TOKENS or raise LLM_CONTEXT_SIZE."
            )
        if self.llama_server_url and not _is_http_url(self.llama_server_url):
            raise ValueError(
                f"LLAMA_SERVER_URL '{self.llama_server_url}' is not an http(s) "
                "address; set it to llama-server's base URL, e.g. "
                "http://127.0.0.1:8080"
            )
        if self.auth_enabled:
            _check_jwt_keys(self)
        if self.environment is not Environment.DEVELOPMENT:
            _refuse_placeholder_secret(self)
        return self

    @property
    def model_uri(self) -> str:
        """The registry URI of the model this service answers with."""
        return f"models:/{self.model_name}@{self.model_alias}"


def _check_jwt_keys(settings: ServingSettings) -> None:
    algorithm = settings.jwt_algorithm
    if algorithm not in SIGNING_ALGORITHMS:
        raise ValueError(
            f"JWT_ALGORITHM '{algorithm}' is not supported; use one of "
            f"{', '.join(sorted(SIGNING_ALGORITHMS))}"
        )
    if not algorithm.startswith("HS") and not settings.jwt_jwks_url:
        raise ValueError(
            f"JWT_ALGORITHM {algorithm} verifies with public keys; set "
            "JWT_JWKS_URL to the identity provider's JWKS address, or use HS256 "
            "with JWT_SECRET"
        )
    jwks_url = settings.jwt_jwks_url
    if jwks_url and not _is_http_url(jwks_url):
        raise ValueError(
            f"JWT_JWKS_URL '{jwks_url[:80]}' is not an http(s) address; set it "
            "to the identity provider's JWKS URL, e.g. "
            "https://issuer.example/.well-known/jwks.json"
        )


def _refuse_placeholder_secret(settings: ServingSettings) -> None:
    secret = settings.jwt_secret.get_secret_value().strip().lower()
    if secret in PLACEHOLDER_SECRETS or len(secret) < 32:
        raise ValueError(
            f"JWT_SECRET is a placeholder or shorter than 32 characters, which "
            f"is not allowed in {settings.environment.value}; set a random "
            "secret, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`."
        )


def load_settings(**overrides) -> ServingSettings:
    """Read the settings, turning a validation failure into one clear error."""
    from pydantic import ValidationError

    try:
        return ServingSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc'])).upper() or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(
            f"the serving settings are invalid ({problems}); fix the environment "
            "or .env (see .env.example)."
        ) from exc


def _is_redis_url(value: str) -> bool:
    """A URL redis-py can connect to: a host (and a valid port) or a socket path."""
    from urllib.parse import urlsplit

    try:
        url = urlsplit(value)
        url.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        return False
    if url.scheme == "unix":
        return bool(url.path)
    return url.scheme in REDIS_SCHEMES and bool(url.hostname)


def _is_http_url(value: str) -> bool:
    import httpx

    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        return False
    return url.scheme in ("http", "https") and bool(url.host)
