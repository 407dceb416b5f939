"""Per-key rate limits over Redis with the `limits` library (a moving window; every process shares it).

`SIGHTLINE_API_RATE_LIMIT` is a `limits` expression such as `480/minute;4800/hour`. Past it a
request is 429 with `Retry-After` (seconds until the window has room again).
"""

from __future__ import annotations

import math

from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from api.errors import ApiError
from models.base import utcnow


class Throttle:
    """The limits of one app, on its Redis (built on first use)."""

    def __init__(self, expression: str, redis_factory):
        self.items: list[RateLimitItem] = parse_many(expression)
        self._redis_factory = redis_factory
        self._limiter: MovingWindowRateLimiter | None = None

    def limiter(self) -> MovingWindowRateLimiter:
        if self._limiter is None:
            pool = self._redis_factory().connection_pool
            self._limiter = MovingWindowRateLimiter(RedisStorage("redis://", connection_pool=pool))
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
