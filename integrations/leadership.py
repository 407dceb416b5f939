"""Leadership through a Redis lock (redis-py `Lock`), extended every tick; and what the leader left
for others to read (who leads, its last tick).

The lock is not a fencing token: a paused leader can wake after its lock expired and act once more
before it notices. That is why every claim the scheduler makes is also a conditional database
write (see models/scheduler_queries.py); the lock keeps a second scheduler idle, the database keeps
a stale one harmless.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from typing import Any

import redis
import structlog
from redis.exceptions import LockError

from models.base import utcnow
from pipeline.names import last_tick_key, leader_key, recent_ticks_key

log = structlog.get_logger(__name__)


def identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Leadership:
    """`hold()` once per tick: True while this process leads. Losing the lock is noticed there."""

    def __init__(self, client: redis.Redis, namespace: str, ttl_s: float, who: str | None = None):
        self.client = client
        self.ttl_s = ttl_s
        self.who = who or identity()
        self.namespace = namespace
        self.key = leader_key(namespace)
        self.info_key = f"{self.key}:info"
        # thread_local=False: the token must be visible to whichever thread extends or releases it.
        self.lock = client.lock(self.key, timeout=ttl_s, blocking=False, thread_local=False)
        self.leading = False
        self.since: float | None = None

    def hold(self) -> bool:
        """Extend the lock if we lead (stepping down if it was lost), else try to take it."""
        if self.leading:
            try:
                self.lock.extend(self.ttl_s, replace_ttl=True)
            except LockError:
                self.leading = False
                self.since = None
                log.warning("scheduler_leadership_lost", who=self.who)
                return False
            self.client.expire(self.info_key, int(self.ttl_s * 4))
            return True
        if self.lock.acquire(blocking=False):
            self.leading = True
            self.since = utcnow().timestamp()
            info = json.dumps({"who": self.who, "since": self.since})
            self.client.set(self.info_key, info, ex=int(self.ttl_s * 4))
            log.info("scheduler_leading", who=self.who, ttl_s=self.ttl_s)
        return self.leading

    def step_down(self) -> None:
        """Release the lock on a clean exit, so a follower takes over at its next tick."""
        if not self.leading:
            return
        self.leading = False
        with contextlib.suppress(LockError):
            self.lock.release()
        log.info("scheduler_stepped_down", who=self.who)

    def current(self) -> dict | None:
        """Who leads now (see `current_leader`)."""
        return current_leader(self.client, self.namespace)


def current_leader(client: redis.Redis, namespace: str) -> dict | None:
    """Who leads now, as the leader wrote it (None when nobody holds the lock)."""
    key = leader_key(namespace)
    if not client.exists(key):
        return None
    raw = client.get(f"{key}:info")
    return json.loads(raw) if raw else {"who": "unknown", "since": None}


RECENT_TICKS = 50


def write_last_tick(client: redis.Redis, namespace: str, report: dict) -> None:
    """The leader's last tick, for `status` (kept a day), and the last 50 for the operators' page."""
    encoded = json.dumps(report)
    pipeline = client.pipeline()
    pipeline.set(last_tick_key(namespace), encoded, ex=86_400)
    pipeline.lpush(recent_ticks_key(namespace), encoded)
    pipeline.ltrim(recent_ticks_key(namespace), 0, RECENT_TICKS - 1)
    pipeline.expire(recent_ticks_key(namespace), 86_400)
    pipeline.execute()


def read_recent_ticks(client: redis.Redis, namespace: str, count: int = 20) -> list[dict]:
    """The leader's newest ticks, newest first."""
    raw: list[Any] = list(client.lrange(recent_ticks_key(namespace), 0, count - 1))
    return [json.loads(item) for item in raw]


def read_last_tick(client: redis.Redis, namespace: str) -> dict | None:
    raw = client.get(last_tick_key(namespace))
    return json.loads(raw) if raw else None
