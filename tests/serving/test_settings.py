"""Settings that cannot run safely stop the service at start, saying why."""

from __future__ import annotations

import pytest

from serving.app import create_app
from serving.errors import ConfigurationError
from serving.settings import load_settings


def test_placeholder_jwt_secret_is_refused_outside_development(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("JWT_SECRET", "your-secret-key-here")
    with pytest.raises(ConfigurationError, match="JWT_SECRET is a placeholder"):
        load_settings(_env_file=None)


def test_placeholder_jwt_secret_is_accepted_in_development(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv("JWT_SECRET", "change-me")
    assert load_settings(_env_file=None).environment == "development"


def test_runbook_names_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("LLM_CONTEXT_SIZE", "2048")
    monkeypatch.setenv("LLM_MAX_TOKENS", "300")
    monkeypatch.setenv("LLAMA_N_GPU_LAYERS", "-1")
    monkeypatch.setenv("REDIS_URL", "")
    settings = load_settings(_env_file=None)
    assert (settings.llm_context_size, settings.llm_max_tokens) == (2048, 300)
    assert settings.llama_n_gpu_layers == -1
    assert settings.redis_url is None
    assert settings.model_uri == "models:/yonca-agri@production"


def test_max_tokens_that_leave_no_room_for_a_prompt_are_refused(monkeypatch):
    monkeypatch.setenv("LLM_CONTEXT_SIZE", "512")
    monkeypatch.setenv("LLM_MAX_TOKENS", "512")
    with pytest.raises(ConfigurationError, match="LLM_MAX_TOKENS"):
        load_settings(_env_file=None)


def test_llama_server_url_selects_that_engine_without_contacting_it(monkeypatch):
    # Nothing listens there: the app still builds, and the model loads later.
    monkeypatch.setenv("LLAMA_SERVER_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LLAMA_SERVER_SLOTS", "3")
    settings = load_settings(_env_file=None)
    assert create_app(settings).state.services.settings.llama_server_slots == 3


@pytest.mark.parametrize(
    "url", ["127.0.0.1:8080", "http://127.0.0.1:abc", "ftp://127.0.0.1", "http://"]
)
def test_llama_server_url_that_is_not_http_is_refused(monkeypatch, url):
    monkeypatch.setenv("LLAMA_SERVER_URL", url)
    with pytest.raises(ConfigurationError, match="LLAMA_SERVER_URL"):
        load_settings(_env_file=None)


def test_public_key_algorithm_without_a_jwks_url_is_refused(monkeypatch):
    monkeypatch.setenv("AUTH_ENABLED", "true")
    monkeypatch.setenv("JWT_ALGORITHM", "RS256")
    with pytest.raises(ConfigurationError, match="JWT_JWKS_URL"):
        load_settings(_env_file=None)


def test_unsigned_tokens_cannot_be_configured(monkeypatch):
    monkeypatch.setenv("AUTH_ENABLED", "true")
    monkeypatch.setenv("JWT_ALGORITHM", "none")
    with pytest.raises(ConfigurationError, match="JWT_ALGORITHM 'none'"):
        load_settings(_env_file=None)
