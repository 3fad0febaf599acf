"""Per-caller rate limits: a token bucket per subject, in Redis or in memory.

Each caller has a bucket of ``RATE_LIMIT_BURST`` requests that refills at
``RATE_LIMIT_REQUESTS_PER_MINUTE``. A request takes one token; with none left
it is refused with the seconds until the next token as ``Retry-After``.

With ``REDIS_URL`` set, buckets live in Redis and are updated by one Lua
script, so replicas behind a load balancer share each caller's limit and two
replicas never spend the same token. If Redis stops answering, each replica
falls back to its own in-memory buckets (the limit then holds per replica)
rather than refusing every request or dropping the limit altogether.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import structlog

from serving.settings import ServingSettings

log = structlog.get_logger("serving")

KEY_PREFIX = "yonca:ratelimit:"
# Idle full buckets are forgotten once the in-memory table grows past this.
_MAX_LOCAL_BUCKETS = 10_000
# A slow Redis must not stall every request behind it.
_REDIS_TIMEOUT_SECONDS = 0.5

# KEYS[1] bucket; ARGV capacity, refill per second. Redis's own clock is used,
# so replicas whose clocks disagree still agree on every bucket.
_TAKE_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return tostring(wait)
"""


@dataclass(frozen=True)
class Limit:
    """Bucket size and refill rate."""

    burst: int
    per_second: float

    @classmethod
    def from_settings(cls, settings: ServingSettings) -> Limit:
        return cls(
            burst=settings.rate_limit_burst,
            per_second=settings.rate_limit_requests_per_minute / 60,
        )


def retry_after(wait_seconds: float) -> int | None:
    """``None`` when the request may go ahead, else whole seconds to wait."""
    if wait_seconds <= 0:
        return None
    return max(1, math.ceil(wait_seconds))


class LocalBuckets:
    """Token buckets in this process; used alone without Redis."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> float:
        """Take a token for ``key``; seconds until one is available, 0 if taken."""
        now = time.monotonic()
        capacity, rate = self.limit.burst, self.limit.per_second
        tokens, at = self._buckets.get(key, (capacity, now))
        tokens = min(capacity, tokens + (now - at) * rate)

        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > _MAX_LOCAL_BUCKETS:
            self._forget_full(now)
        return wait

    def _forget_full(self, now: float) -> None:
        capacity, rate = self.limit.burst, self.limit.per_second
        self._buckets = {
            key: (tokens, at)
            for key, (tokens, at) in self._buckets.items()
            if tokens + (now - at) * rate < capacity
        }


class RedisBuckets:
    """Token buckets in Redis, shared by every replica using the same Redis."""

    def __init__(self, limit: Limit, redis_url: str) -> None:
        import redis.asyncio as redis

        self.limit = limit
        self._client = redis.Redis.from_url(
            redis_url,
            socket_timeout=_REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
        )
        self._script = self._client.register_script(_TAKE_SCRIPT)
        self._local = LocalBuckets(limit)
        self._redis_down = False

    async def take(self, key: str) -> float:
        """Take a token for ``key``; seconds until one is available, 0 if taken."""
        from redis.exceptions import RedisError

        try:
            reply = await self._script(
                keys=[KEY_PREFIX + key],
                args=[self.limit.burst, self.limit.per_second],
            )
        except RedisError as exc:
            self._note_redis_down(exc)
            return self._local.take(key)

        if self._redis_down:
            self._redis_down = False
            log.info("rate_limit.redis_recovered")
        return float(reply)

    def _note_redis_down(self, exc: Exception) -> None:
        if not self._redis_down:
            self._redis_down = True
            log.warning(
                "rate_limit.redis_unavailable",
                error=repr(exc),
                fallback="per-replica in-memory buckets",
            )

    async def close(self) -> None:
        await self._client.aclose()


class RateLimiter:
    """Takes one token per request from the caller's bucket."""

    def __init__(self, settings: ServingSettings) -> None:
        limit = Limit.from_settings(settings)
        self.limit = limit
        self._redis = (
            RedisBuckets(limit, settings.redis_url) if settings.redis_url else None
        )
        self._local = LocalBuckets(limit)

    @property
    def shared(self) -> bool:
        return self._redis is not None

    async def check(self, caller: str) -> int | None:
        """``None`` if ``caller`` may go ahead, else seconds to wait."""
        if self._redis is not None:
            return retry_after(await self._redis.take(caller))
        return retry_after(self._local.take(caller))

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.close()
