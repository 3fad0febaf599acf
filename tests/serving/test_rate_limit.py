"""A burst per caller, then 429 with Retry-After; Redis shares it across replicas."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis

from tests.serving.conftest import JWT_SECRET, MODEL, make_settings, make_token

REDIS_URL = "redis://127.0.0.1:6379/15"
BODY = {"model": MODEL, "messages": [{"role": "user", "content": "salam"}]}


def _limited(registry, tmp_path, **overrides):
    """Rules-only settings (no model to load) with a burst of 3 and slow refill."""
    values = {
        "degradation_level": "rules_only",
        "rate_limit_requests_per_minute": 1,
        "rate_limit_burst": 3,
        **overrides,
    }
    return make_settings(registry.tracking_uri, tmp_path / "cache", **values)


def _ask(base_url: str, subject: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {make_token(subject)}"} if subject else {}
    url = f"{base_url}/v1/chat/completions"
    return httpx.post(url, json=BODY, headers=headers, timeout=10)


def _assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429
    # One token a minute: the next one is most of a minute away.
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    error = response.json()["error"]
    assert error["type"] == "rate_limit_error"
    assert error["code"] == "rate_limit_exceeded"
    assert "Retry-After" in error["message"]


def test_burst_then_429_by_client_address_without_auth(serve, registry, tmp_path):
    base_url = serve(_limited(registry, tmp_path))

    assert [_ask(base_url).status_code for _ in range(3)] == [200, 200, 200]
    _assert_limited(_ask(base_url))
    assert httpx.get(f"{base_url}/health").status_code == 200
    assert httpx.get(f"{base_url}/metrics").status_code == 200


def test_limit_is_per_token_subject(serve, registry, tmp_path):
    settings = _limited(registry, tmp_path, auth_enabled=True, jwt_secret=JWT_SECRET)
    base_url = serve(settings)

    assert [_ask(base_url, "farmer-a").status_code for _ in range(3)] == [200] * 3
    _assert_limited(_ask(base_url, "farmer-a"))
    assert _ask(base_url, "farmer-b").status_code == 200


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL} ({exc}); start redis-server to run")
    return REDIS_URL


def test_two_replicas_sharing_redis_share_each_callers_limit(
    serve, registry, tmp_path, redis_url
):
    settings = _limited(
        registry,
        tmp_path,
        auth_enabled=True,
        jwt_secret=JWT_SECRET,
        redis_url=redis_url,
    )
    first, second = serve(settings), serve(settings)
    farmer = f"farmer-{uuid.uuid4().hex}"  # a bucket no earlier run has touched

    assert _ask(first, farmer).status_code == 200
    assert _ask(second, farmer).status_code == 200
    assert _ask(first, farmer).status_code == 200
    _assert_limited(_ask(second, farmer))
    _assert_limited(_ask(first, farmer))
    assert _ask(second, f"other-{farmer}").status_code == 200


def test_unreachable_redis_falls_back_to_a_local_limit(serve, registry, tmp_path):
    settings = _limited(registry, tmp_path, redis_url="redis://127.0.0.1:1/0")
    base_url = serve(settings)

    assert [_ask(base_url).status_code for _ in range(3)] == [200, 200, 200]
    _assert_limited(_ask(base_url))


def test_concurrent_requests_on_two_replicas_never_exceed_the_burst(
    serve, registry, tmp_path, redis_url
):
    settings = _limited(
        registry,
        tmp_path,
        auth_enabled=True,
        jwt_secret=JWT_SECRET,
        redis_url=redis_url,
    )
    replicas = [serve(settings), serve(settings)]
    farmer = f"farmer-{uuid.uuid4().hex}"

    with ThreadPoolExecutor(max_workers=12) as pool:
        asks = [pool.submit(_ask, replicas[n % 2], farmer) for n in range(12)]
        statuses = sorted(ask.result().status_code for ask in asks)

    assert statuses == [200] * 3 + [429] * 9
    redis.Redis.from_url(redis_url).delete(f"yonca:ratelimit:sub:{farmer}")
