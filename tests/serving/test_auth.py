"""With AUTH_ENABLED the OpenAI routes need a valid JWT; probes stay open."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jwt
import openai
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.serving.conftest import JWT_SECRET, MODEL, make_settings, make_token

USER = [{"role": "user", "content": "When should I irrigate?"}]
CHAT = "/v1/chat/completions"


@pytest.fixture
def guarded(serve, registry, tmp_path) -> str:
    """A server with authentication on, answering from the rules (no model)."""
    settings = make_settings(
        registry.tracking_uri,
        tmp_path / "cache",
        auth_enabled=True,
        jwt_secret=JWT_SECRET,
        degradation_level="rules_only",
    )
    return serve(settings)


def _chat(base_url: str, authorization: str | None) -> httpx.Response:
    headers = {"authorization": authorization} if authorization else {}
    body = {"model": MODEL, "messages": USER}
    return httpx.post(f"{base_url}{CHAT}", json=body, headers=headers, timeout=10)


def _assert_401(response: httpx.Response, wording: str) -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "authentication_error"
    assert wording in error["message"]


def test_request_without_a_token_is_401_in_openai_shape(guarded):
    _assert_401(_chat(guarded, None), "Authorization: Bearer")


def test_token_signed_with_another_secret_is_401(guarded):
    forged = make_token(secret="another-secret-that-is-also-long-enough")
    _assert_401(_chat(guarded, f"Bearer {forged}"), "not valid")


def test_expired_token_is_401_saying_it_expired(guarded):
    expired = make_token(expires_in=-120)
    _assert_401(_chat(guarded, f"Bearer {expired}"), "expired")


def test_token_without_subject_is_401(guarded):
    claims = {"exp": 4_102_444_800}
    token = jwt.encode(claims, JWT_SECRET, algorithm="HS256")
    _assert_401(_chat(guarded, f"Bearer {token}"), "'sub'")


def test_garbage_and_unsigned_tokens_are_401(guarded):
    unsigned = jwt.encode({"sub": "x", "exp": 4_102_444_800}, None, algorithm="none")
    for value in ("Bearer not.a.jwt", f"Bearer {unsigned}", "Basic dXNlcjpwdw=="):
        assert _chat(guarded, value).status_code == 401


def test_valid_token_is_served_through_the_sdk(guarded):
    client = openai.OpenAI(
        base_url=f"{guarded}/v1", api_key=make_token(), max_retries=0
    )
    answer = client.chat.completions.create(model=MODEL, messages=USER)
    assert answer.choices[0].message.content
    assert [model.id for model in client.models.list()] == [MODEL]


def test_sdk_raises_authentication_error_without_a_valid_token(guarded):
    client = openai.OpenAI(base_url=f"{guarded}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model=MODEL, messages=USER)


def test_health_ready_and_metrics_need_no_token(guarded):
    for path in ("/health", "/ready", "/metrics"):
        assert httpx.get(f"{guarded}{path}", timeout=10).status_code == 200


@contextmanager
def _jwks_server(document: dict) -> Iterator[str]:
    payload = json.dumps(document).encode()

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    finally:
        server.shutdown()


def test_rs256_token_is_verified_against_the_jwks_url(serve, registry, tmp_path):
    issuer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stranger_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = jwt.algorithms.RSAAlgorithm.to_jwk(issuer_key.public_key(), as_dict=True)
    document = {"keys": [{**public, "kid": "issuer-1", "alg": "RS256", "use": "sig"}]}

    with _jwks_server(document) as jwks_url:
        settings = make_settings(
            registry.tracking_uri,
            tmp_path / "cache",
            auth_enabled=True,
            jwt_algorithm="RS256",
            jwt_jwks_url=jwks_url,
            degradation_level="rules_only",
        )
        base_url = serve(settings)
        signed = {"secret": issuer_key, "algorithm": "RS256"}
        kid = {"headers": {"kid": "issuer-1"}}
        good = make_token(**signed, **kid)
        forged = make_token(secret=stranger_key, algorithm="RS256", **kid)

        assert _chat(base_url, f"Bearer {good}").status_code == 200
        _assert_401(_chat(base_url, f"Bearer {forged}"), "not valid")
        # With RS256 configured, a token signed with a shared secret is refused.
        hs = make_token(secret=JWT_SECRET, headers={"kid": "issuer-1"})
        _assert_401(_chat(base_url, f"Bearer {hs}"), "not valid")
