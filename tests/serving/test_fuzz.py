"""Requests generated from the OpenAPI schema never get a 5xx.

Schemathesis draws valid and invalid bodies, queries and headers for each
public route and sends them to a live server that answers with a promoted tiny
model. Whatever a client sends, a mistake must come back as a 4xx; a 5xx here
is a bug in the server.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from serving.app import create_app
from tests.serving.conftest import (
    MODEL,
    Registry,
    make_settings,
    wait_until_settled,
)
from tests.support.servers import running_server

FUZZED_PATHS = [
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/models",
    "/health",
    "/ready",
]
# Short answers keep the run bounded: the fuzzer may ask for any max_tokens.
ANSWER_TOKEN_CAP = 8


def _published_schema():
    # The schema is the app's own; the app is built without starting it, so
    # no model is loaded until the live server below starts.
    app = create_app(make_settings("sqlite:///unused.db", Path("unused-cache")))
    return schemathesis.openapi.from_dict(app.openapi()).include(path=FUZZED_PATHS)


schema = _published_schema()


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory, tiny_ggufs, empty_store):
    """A server over a promoted tiny model whose answers stop after a few tokens."""
    folder = tmp_path_factory.mktemp("fuzzed")
    shutil.copyfile(empty_store, folder / "mlflow.db")
    registry = Registry(f"sqlite:///{folder / 'mlflow.db'}", folder / "artifacts")
    registry.promote(registry.register(tiny_ggufs[0]))
    settings = make_settings(
        registry.tracking_uri, folder / "cache", llm_max_tokens=ANSWER_TOKEN_CAP
    )
    with running_server(create_app(settings)) as base_url:
        assert wait_until_settled(base_url).status_code == 200
        yield base_url


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_never_get_a_server_error(fuzzed_server, case):
    _name_the_served_model(case)

    response = case.call(base_url=fuzzed_server, timeout=30)
    case.validate_response(response, checks=[not_a_server_error])


def _name_the_served_model(case) -> None:
    # Most generated names are unknown and stop at the model check; naming
    # the served model in half of the bodies sends them on to generation.
    body = case.body
    named = isinstance(body, dict) and isinstance(body.get("model"), str)
    if named and len(body["model"]) % 2 == 0:
        body["model"] = MODEL
