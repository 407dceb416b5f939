"""Dramatiq on Redis: sending messages by route, and reading queue depths for operators.

`Sender` is how use cases hand work to the workers: by route (`pipeline.names`), so a message can
be sent before, or without, the actor module being imported. This module reads Dramatiq's own
Redis keys (`{namespace}:{queue}`, `.msgs`, `.DQ.msgs`, `.XQ`), and `integrations.ack_sets` its ack
sets and heartbeats: Dramatiq has no public API for "is this message still queued", "how deep is
this queue" or "who fetched this message".
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import dramatiq
import redis
from dramatiq.errors import ActorNotFound

from pipeline.names import QUEUES, ROUTES, Route


class Sender:
    """Sends messages through a broker; the routes' actors need not be declared in this process."""

    def __init__(self, broker: dramatiq.Broker):
        self.broker = broker

    def send(self, route: Route, *args: object, delay_ms: int | None = None, **options: Any) -> None:
        try:
            actor = self.broker.get_actor(route.actor)
        except ActorNotFound:
            message: dramatiq.Message[Any] = dramatiq.Message(
                queue_name=route.queue, actor_name=route.actor, args=args, kwargs={}, options=dict(options)
            )
            self.broker.enqueue(message, delay=delay_ms)
            return
        actor.send_with_options(args=args, delay=delay_ms, **options)

    def send_each(self, route: Route, ids: Iterable[object]) -> int:
        """One message per id (as text); how many were sent."""
        count = 0
        for item in ids:
            self.send(route, str(item))
            count += 1
        return count


def queued_ids(client: redis.Redis, namespace: str, queue: str) -> set[str] | None:
    """First arguments of a queue's ready, in-flight and delayed messages, a list's items each (a batch
    of observations); None when Redis did not answer."""
    found: set[str] = set()
    try:
        for key in (f"{namespace}:{queue}.msgs", f"{namespace}:{queue}.DQ.msgs"):
            for _, payload in client.hscan_iter(key, count=1000):
                try:
                    args = json.loads(payload).get("args") or []
                except (ValueError, AttributeError):
                    continue
                for first in args[:1]:  # a batch's first argument is a list of ids
                    found.update(str(each) for each in (first if isinstance(first, list) else [first]))
    except redis.RedisError:
        return None
    return found


def queue_depths(client: redis.Redis, namespace: str) -> dict[str, dict[str, int]]:
    """Per queue: ready, delayed, in flight (fetched, not yet acknowledged) and dead messages."""
    depths = {}
    for queue in QUEUES:
        base = f"{namespace}:{queue}"
        ready = client.llen(base)
        depths[queue] = {
            "ready": ready,
            "delayed": client.hlen(f"{base}.DQ.msgs"),
            "in_flight": max(0, client.hlen(f"{base}.msgs") - ready),
            "dead": client.zcard(f"{base}.XQ"),
        }
    return depths


def record_depths(
    client: redis.Redis,
    key: str,
    at: float,
    depths: dict[str, dict[str, int]],
    keep_s: float,
    jobs: dict[str, int] | None = None,
) -> None:
    """Keep one sample of every queue's depths (and the job counters then) at `at` (seconds), and
    forget samples older than `keep_s`."""
    sample = json.dumps({"at": at, "queues": depths, "jobs": jobs or {}}, sort_keys=True)
    pipeline = client.pipeline()
    pipeline.zadd(key, {sample: at})
    pipeline.zremrangebyscore(key, "-inf", at - keep_s)
    pipeline.execute()


def depth_history(client: redis.Redis, key: str, since: float) -> list[dict[str, Any]]:
    """The samples since `since` (seconds), oldest first: `{at, queues: {queue: {state: count}}}`."""
    found: list[Any] = list(client.zrangebyscore(key, since, "+inf"))
    return [json.loads(raw) for raw in found]


def job_counters(client: redis.Redis, key: str) -> list[tuple[str, str, int, float]]:
    """(actor, status, attempts, summed milliseconds) from the counters the workers keep."""
    raw: dict[Any, Any] = dict(client.hgetall(key))
    fields = {(k.decode() if isinstance(k, bytes) else k): v for k, v in raw.items()}
    found = []
    for field, value in sorted(fields.items()):
        parts = field.split("|")
        if len(parts) == 2:
            total = float(fields.get(f"{field}|ms", 0) or 0)
            found.append((parts[0], parts[1], int(value), total))
    return found


def dead_messages(client: redis.Redis, namespace: str, limit: int = 50) -> list[dict[str, Any]]:
    """The dead-lettered messages of every queue, newest first: `{queue, id, actor, args, dead_at}`
    (Dramatiq keeps them in `{queue}.XQ`, with their bodies in `.XQ.msgs`, for a week)."""
    found = []
    for queue in QUEUES:
        base = f"{namespace}:{queue}.XQ"
        entries: list[Any] = list(client.zrevrange(base, 0, limit - 1, withscores=True))
        for raw_id, score in entries:
            message_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            body = client.hget(f"{base}.msgs", message_id)
            try:
                message = json.loads(body) if body else {}
            except ValueError:
                message = {}
            found.append(
                {
                    "queue": queue,
                    "id": message_id,
                    "actor": message.get("actor_name", "?"),
                    "args": message.get("args") or [],
                    "dead_at": float(score) / 1000,
                    "body": message,
                }
            )
    return sorted(found, key=lambda item: item["dead_at"], reverse=True)[:limit]


def drop_dead(client: redis.Redis, namespace: str, queue: str, message_id: str) -> dict[str, Any] | None:
    """Remove one dead-lettered message; its body, or None when there was none (or `queue` is not ours)."""
    if queue not in QUEUES:
        return None
    base = f"{namespace}:{queue}.XQ"
    body = client.hget(f"{base}.msgs", message_id)
    pipeline = client.pipeline()
    pipeline.zrem(base, message_id)
    pipeline.hdel(f"{base}.msgs", message_id)
    pipeline.execute()
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def route_of(actor_name: str) -> Route | None:
    return next((route for route in ROUTES if route.actor == actor_name), None)


def counters(client: redis.Redis, key: str) -> dict[str, int]:
    """A hash of integer counters, as text keys."""
    raw: dict[Any, Any] = dict(client.hgetall(key))
    return {(k.decode() if isinstance(k, bytes) else str(k)): int(float(v)) for k, v in raw.items()}
