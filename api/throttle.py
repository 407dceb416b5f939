"""Per-key rate limits over Redis with the `limits` library, shared by every process.

A sliding window counter: two counters per key and window, so a hit costs the same however busy
the key is (a moving window keeps one entry per hit and reads them all).

`SIGHTLINE_API_RATE_LIMIT` is a `limits` expression such as `480/minute;4800/hour`. Past it a
request is 429 with `Retry-After` (seconds until the window has room again).
"""

from __future__ import annotations

import math

from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.storage import RedisStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from api.errors import ApiError
from models.base import utcnow


class Throttle:
    """The limits of one app, on its Redis (built on first use)."""

    def __init__(self, expression: str, redis_factory):
        self.items: list[RateLimitItem] = parse_many(expression)
        self._redis_factory = redis_factory
        self._limiter: SlidingWindowCounterRateLimiter | None = None

    def limiter(self) -> SlidingWindowCounterRateLimiter:
        if self._limiter is None:
            pool = self._redis_factory().connection_pool
            self._limiter = SlidingWindowCounterRateLimiter(RedisStorage("redis://", connection_pool=pool))
        return self._limiter

    def hit(self, identity: str) -> int | None:
        """Count one request for `identity`; None when allowed, else the seconds to wait."""
        limiter = self.limiter()
        for item in self.items:
            if not limiter.hit(item, "api", identity):
                reset = limiter.get_window_stats(item, "api", identity).reset_time
                return max(1, math.ceil(reset - utcnow().timestamp()))
        return None


def throttle(request: Request, identity: str) -> None:
    """Count a request of `identity` (a key id); 429 with Retry-After past its limit."""
    limits: Throttle | None = getattr(request.app.state, "throttle", None)
    wait = limits.hit(identity) if limits is not None else None
    if wait is not None:
        detail = f"Request was throttled. Expected available in {wait} seconds."
        raise ApiError(429, "throttled_error", "throttled", detail, headers={"Retry-After": str(wait)})
