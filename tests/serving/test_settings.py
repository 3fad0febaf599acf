"""Settings that cannot run safely stop the service at start, saying why."""

from __future__ import annotations

import pytest

from serving.app import create_app
from serving.errors import ConfigurationError
from serving.settings import load_settings
from tests.conftest import REPO, run_module


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


@pytest.mark.parametrize(
    ("env", "named"),
    [
        pytest.param({"LOG_LEVEL": "loud"}, "LOG_LEVEL", id="log-level"),
        pytest.param({"REDIS_URL": "garbage"}, "REDIS_URL", id="redis-url"),
        pytest.param(
            {"REDIS_URL": "redis://h:notaport/0"}, "REDIS_URL", id="redis-port"
        ),
        pytest.param({"REDIS_URL": "unix://"}, "REDIS_URL", id="redis-no-socket"),
        pytest.param(
            {"LLM_CONTEXT_SIZE": "100000000"}, "LLM_CONTEXT_SIZE", id="huge-context"
        ),
        pytest.param(
            {
                "AUTH_ENABLED": "true",
                "JWT_ALGORITHM": "RS256",
                "JWT_JWKS_URL": "garbage",
            },
            "JWT_JWKS_URL",
            id="jwks-url",
        ),
    ],
)
def test_unusable_setting_is_refused_naming_it(monkeypatch, env, named):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=named):
        load_settings(_env_file=None)


def test_log_level_is_read_whatever_its_case(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "warn")
    assert load_settings(_env_file=None).log_level == "WARNING"


def test_model_cache_dir_that_cannot_be_written_stops_the_start(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings = load_settings(_env_file=None, model_cache_dir=blocker / "cache")
    with pytest.raises(ConfigurationError, match="MODEL_CACHE_DIR"):
        create_app(settings)


def test_uvicorn_start_with_a_bad_setting_prints_the_reason_not_a_traceback(
    tmp_path,
):
    env = {"PYTHONPATH": str(REPO), "LLM_CONTEXT_SIZE": "abc"}
    result = run_module(
        "uvicorn", "serving.app:app", "--port", "1", cwd=tmp_path, env=env
    )
    assert result.returncode == 2
    assert "LLM_CONTEXT_SIZE" in result.stderr
    assert "Traceback" not in result.stderr
