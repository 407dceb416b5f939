"""A Gemini rate limiter shared by every worker through Redis: requests per minute and concurrency.

Built on Dramatiq's own limiters (a sliding window counted in Redis, and a distributed semaphore).
A caller that cannot get a slot within `max_wait_s` gets `ProviderTransient`, so the observation
is retried later instead of holding a worker thread forever.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from dramatiq.rate_limits import ConcurrentRateLimiter, WindowRateLimiter
from dramatiq.rate_limits.backends import RedisBackend

from pipeline.errors import ProviderTransient
from pipeline.names import gemini_concurrency_key, gemini_rpm_key

# Dramatiq counts whole-second buckets; a sliding 60 s window can touch 61 of them, so counting
# 61 buckets is what keeps every 60-second window at or under the limit (a 60-bucket window let
# 66 requests through in one 60 s span in the benchmark).
WINDOW_S = 61
POLL_S = 0.1


class GeminiLimiter:
    def __init__(
        self,
        client: redis.Redis,
        *,
        namespace: str,
        per_minute: int,
        concurrency: int,
        max_wait_s: float = 90.0,
        call_ttl_s: float = 900.0,
    ):
        backend = RedisBackend(client=client)
        self.window = WindowRateLimiter(backend, gemini_rpm_key(namespace), limit=per_minute, window=WINDOW_S)
        self.concurrent = ConcurrentRateLimiter(
            backend, gemini_concurrency_key(namespace), limit=concurrency, ttl=int(call_ttl_s * 1000)
        )
        self.max_wait_s = max_wait_s

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one request slot: a place in this minute's window and one of the concurrent calls."""
        deadline = time.monotonic() + self.max_wait_s
        self._wait(self._take_window, deadline)
        while True:
            with self.concurrent.acquire(raise_on_failure=False) as acquired:
                if acquired:
                    yield
                    return
            self._pause(deadline)

    def _take_window(self) -> bool:
        with self.window.acquire(raise_on_failure=False) as acquired:
            return bool(acquired)

    def _wait(self, take, deadline: float) -> None:
        while not take():
            self._pause(deadline)

    @staticmethod
    def _pause(deadline: float) -> None:
        if time.monotonic() >= deadline:
            raise ProviderTransient("the Gemini rate limit kept every slot busy")
        time.sleep(POLL_S)
