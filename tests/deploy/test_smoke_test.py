"""scripts/smoke-test.sh against stand-in servers and against the real API."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.deploy.conftest import SCRIPTS

SMOKE = SCRIPTS / "smoke-test.sh"
pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")


def answer(content: str) -> dict:
    message = {"role": "assistant", "content": content}
    return {"object": "chat.completion", "choices": [{"index": 0, "message": message}]}


class StandIn(BaseHTTPRequestHandler):
    """Answers the three routes the smoke test calls, as configured per server."""

    routes: dict[tuple[str, str], tuple[int, dict]] = {}
    seen: list[dict] = []

    def do_GET(self) -> None:
        self._reply("GET")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.seen.append(json.loads(self.rfile.read(length)))
        self._reply("POST")

    def _reply(self, method: str) -> None:
        status, body = self.routes.get((method, self.path), (404, {"detail": "no"}))
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


HEALTHY = {
    ("GET", "/health"): (200, {"status": "ok"}),
    ("GET", "/ready"): (200, {"status": "ready"}),
    ("POST", "/v1/chat/completions"): (200, answer("Water wheat at tillering.")),
}


@contextmanager
def stand_in(**changes: tuple[int, dict]) -> Iterator[tuple[str, list[dict]]]:
    routes = dict(HEALTHY)
    for key, value in changes.items():
        method, path = key.split(" ", 1)
        routes[(method, path)] = value
    handler = type("Handler", (StandIn,), {"routes": routes, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.seen
    finally:
        server.shutdown()
        server.server_close()


def smoke(url: str, **env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": "/usr/bin:/bin:/usr/local/bin", "SMOKE_READY_WAIT": "0"}
    return subprocess.run(
        [str(SMOKE), url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environment, **env},
    )


def test_passes_when_health_ready_and_chat_answer():
    with stand_in() as (url, seen):
        result = smoke(url, SMOKE_MODEL="yonca-agri")
    assert result.returncode == 0, result.stderr
    assert "smoke test passed" in result.stdout
    assert seen[0]["model"] == "yonca-agri"
    assert seen[0]["messages"][0]["role"] == "user"


def test_fails_with_a_clear_message_when_nothing_listens():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = smoke(f"http://127.0.0.1:{port}")
    assert result.returncode == 1
    assert "/health: no answer" in result.stderr


def test_fails_when_no_vetted_model_is_loaded():
    not_ready = (503, {"status": "not_ready", "reason": "no vetted model"})
    with stand_in(**{"GET /ready": not_ready}) as (url, seen):
        result = smoke(url)
    assert result.returncode == 1
    assert "/ready answered 503" in result.stderr
    assert "no vetted model" in result.stderr
    assert seen == [], "a chat request was sent to a server that is not ready"


def test_fails_when_the_chat_answer_is_empty():
    with stand_in(**{"POST /v1/chat/completions": (200, answer("  "))}) as (url, _):
        result = smoke(url)
    assert result.returncode == 1
    assert "non-empty" in result.stderr


def test_fails_when_the_chat_route_errors():
    failure = (500, {"error": {"message": "internal error"}})
    with stand_in(**{"POST /v1/chat/completions": failure}) as (url, _):
        result = smoke(url)
    assert result.returncode == 1
    assert "/v1/chat/completions answered 500" in result.stderr


def test_refuses_a_missing_or_malformed_url():
    assert smoke("").returncode == 2
    assert smoke("127.0.0.1:8000").returncode == 2


@pytest.fixture(scope="module")
def serving_api(tmp_path_factory, tiny_gguf) -> Iterator[str]:
    """The real API, answering with a promoted tiny model from a SQLite registry."""
    from serving.app import create_app
    from tests.serving.conftest import (
        Registry,
        make_settings,
        wait_until_settled,
    )
    from tests.support.servers import running_server

    folder = tmp_path_factory.mktemp("smoke-registry")
    registry = Registry(f"sqlite:///{folder / 'mlflow.db'}", folder / "artifacts")
    registry.promote(registry.register(tiny_gguf))
    settings = make_settings(registry.tracking_uri, folder / "cache")
    with running_server(create_app(settings)) as base_url:
        assert wait_until_settled(base_url).status_code == 200
        yield base_url


def test_passes_against_the_real_api(serving_api):
    result = smoke(serving_api, SMOKE_MODEL="yonca-agri", SMOKE_TIMEOUT="60")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   POST /v1/chat/completions" in result.stdout
