"""A Gemini rate limiter shared by every worker through Redis: requests per minute and concurrency.

Two Lua scripts, one round trip each, on Redis's own clock (`TIME`), so every process counts
against the same window however their clocks drift:

- the window is a sorted set of requests. A request counts from when it is admitted until
  `window_s` after it ended (its score is when its hold lapses while it runs, then when it ended):
  a request reaches the provider somewhere between its admission and its end, so however late it
  arrives there (a cold connection, a slow network), no `window_s` window at the provider ever
  holds more than `per_minute` requests, across processes. Counting from admission alone let 62
  through in the benchmark's busiest minute at the fake; counting to the end costs a rate-bound
  run one call's latency per minute;
- the concurrent calls are a sorted set of holders scored by when their hold lapses (`call_ttl_s`),
  so the slot of a process that died mid-call frees itself.

Both are taken together or not at all. When either is full the script says how long until a slot
frees (a request leaving the window, or the first hold lapsing), and the caller sleeps that long
(at most `WAIT_CAP_S`) instead of polling blindly. A hold released in this process wakes this
process's waiters at once; one released in another process is seen within `HOLD_POLL_S`. A caller
that cannot get a slot within `max_wait_s` gets `ProviderTransient`, so the observation is retried
later instead of holding a worker thread.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count

import redis

from pipeline.errors import ProviderTransient
from pipeline.names import gemini_concurrency_key, gemini_rpm_key

# KEYS: window, holders. ARGV: member, per_minute, window_us, concurrency, ttl_us.
# Returns {0, 0} when the slot is taken, {1, µs until the window frees one}, or
# {2, µs until the first hold lapses} when every concurrent call is held.
_TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local limit, window = tonumber(ARGV[2]), tonumber(ARGV[3])
local concurrency, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local admitted = redis.call('ZCARD', KEYS[1])
if admitted >= limit then
    local leaving = redis.call('ZRANGE', KEYS[1], admitted - limit, admitted - limit, 'WITHSCORES')
    return {1, tonumber(leaving[2]) + window - now}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= concurrency then
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {2, tonumber(first[2]) - now}
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.ceil((ttl + window) / 1000) + 1000)
redis.call('PEXPIRE', KEYS[2], math.ceil(ttl / 1000) + 1000)
return {0, 0}
"""
# KEYS: window, holders. ARGV: member. The request ended now: it stays in the window `window_s` more.
_RELEASE = """
local clock = redis.call('TIME')
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], 'XX', tonumber(clock[1]) * 1000000 + tonumber(clock[2]), ARGV[1])
"""
TAKEN, WINDOW_FULL = 0, 1
HOLD_POLL_S = 0.05  # the longest a waiter misses a hold released by another process
WAIT_CAP_S = 1.0  # a waiter asks again at least this often, so a limit changed meanwhile takes effect
JITTER_S = 0.005  # so waiters of several processes do not all ask at the same microsecond


class GeminiLimiter:
    """`slot()` holds one Gemini request: a place in the shared window and one of the concurrent calls."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        namespace: str,
        per_minute: int,
        concurrency: int,
        max_wait_s: float = 90.0,
        call_ttl_s: float = 900.0,
        window_s: float = 60.0,
    ):
        self.keys = [gemini_rpm_key(namespace), gemini_concurrency_key(namespace)]
        self.limits = [per_minute, int(window_s * 1_000_000), concurrency, int(call_ttl_s * 1_000_000)]
        self.max_wait_s = max_wait_s
        # EVALSHA, loading the script again after a SCRIPT FLUSH or a restart
        self._take, self._end = client.register_script(_TAKE), client.register_script(_RELEASE)
        self._prefix, self._serial = uuid.uuid4().hex, count()
        self._released = threading.Condition()
        self._releases = 0  # counts this process's releases, so a waiter sees one made while it asked

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one request slot until the block ends.

        Raises `ProviderTransient` when no slot freed within `max_wait_s`.
        """
        member = f"{self._prefix}:{next(self._serial)}"
        self._acquire(member, time.monotonic() + self.max_wait_s)
        try:
            yield
        finally:
            self._release(member)

    def _acquire(self, member: str, deadline: float) -> None:
        while True:
            releases = self._releases
            status, wait_us = self._take(keys=self.keys, args=[member, *self.limits])
            if status == TAKEN:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProviderTransient("the Gemini rate limit kept every slot busy")
            if status == WINDOW_FULL:
                time.sleep(min(left, WAIT_CAP_S, wait_us / 1_000_000 + random.uniform(0, JITTER_S)))
            else:
                with self._released:
                    if releases == self._releases:
                        self._released.wait(min(left, wait_us / 1_000_000, HOLD_POLL_S))

    def _release(self, member: str) -> None:
        self._end(keys=self.keys, args=[member])
        with self._released:
            self._releases += 1
            self._released.notify_all()
