"""Messages fetched and not acknowledged: Dramatiq's ack sets, its heartbeats, and what each of our
workers reports holding (`pipeline.redelivery` decides what to requeue).

Dramatiq's Redis broker keeps, per broker process (`broker_id`), a heartbeat in the sorted set
`{namespace}:__heartbeats__` (milliseconds, written by every command it runs) and the ids it
fetched from each queue in `{namespace}:__acks__.{broker_id}.{queue}` (delayed messages under
`{queue}.DQ`), with their bodies in `{namespace}:{queue}.msgs`. Like `integrations.queues`, this
module reads those keys because Dramatiq has no API for them; `requeue` does what Dramatiq's own
maintenance does for a dead worker (`dispatch.lua`), for the ids given.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import redis

from pipeline.names import holding_key, unacked_suspects_key
from pipeline.redelivery import AckSet, Unacked

# Back on the queue: each id still in the ack set (nobody acknowledged it meanwhile) and still
# stored (its body in .msgs) goes to the tail of the queue, as Dramatiq's maintenance does.
_REQUEUE = """
local moved = 0
for i = 1, #ARGV do
    if redis.call("srem", KEYS[1], ARGV[i]) == 1 and redis.call("hexists", KEYS[3], ARGV[i]) == 1 then
        redis.call("rpush", KEYS[2], ARGV[i])
        moved = moved + 1
    end
end
return moved
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def with_delay_queues(queues: Iterable[str]) -> list[str]:
    """Each queue and its delay queue: Dramatiq keeps an ack set for both."""
    return [name for queue in queues for name in (queue, f"{queue}.DQ")]


def read_unacked(client: redis.Redis, namespace: str, queues: Iterable[str]) -> Unacked:
    """Every known worker's ack sets for `queues` (and their delay queues), heartbeat and report."""
    beats: list[Any] = list(client.zrange(f"{namespace}:__heartbeats__", 0, -1, withscores=True))
    heartbeats = {_text(worker): float(score) / 1000 for worker, score in beats}
    names = with_delay_queues(queues)
    pipeline = client.pipeline(transaction=False)
    for worker in heartbeats:
        pipeline.get(holding_key(namespace, worker))
        for queue in names:
            pipeline.smembers(f"{namespace}:__acks__.{worker}.{queue}")
    replies = iter(pipeline.execute())
    acks: dict[AckSet, frozenset[str]] = {}
    holding: dict[str, frozenset[str]] = {}
    for worker in heartbeats:
        report = next(replies)
        if report is not None:
            holding[worker] = frozenset(json.loads(report))
        for queue in names:
            ids = frozenset(_text(message_id) for message_id in next(replies))
            if ids:
                acks[(worker, queue)] = ids
    return Unacked(acks=acks, heartbeats=heartbeats, holding=holding)


def requeue(client: redis.Redis, namespace: str, worker: str, queue: str, ids: list[str]) -> int:
    """Move `ids` from the worker's ack set back onto `queue`; how many went back."""
    keys = [f"{namespace}:__acks__.{worker}.{queue}", f"{namespace}:{queue}", f"{namespace}:{queue}.msgs"]
    return int(client.eval(_REQUEUE, len(keys), *keys, *ids))


def forget_workers(client: redis.Redis, namespace: str, workers: Iterable[str]) -> None:
    """Remove dead workers that hold nothing from Dramatiq's heartbeats."""
    gone = list(workers)
    if gone:
        client.zrem(f"{namespace}:__heartbeats__", *gone)


def report_holding(
    client: redis.Redis, namespace: str, worker: str, ids: Iterable[str], expire_s: int
) -> None:
    """A worker's report of the messages it holds (fetched, not acknowledged), kept `expire_s`."""
    client.set(holding_key(namespace, worker), json.dumps(sorted(ids)), ex=expire_s)


def forget_holding(client: redis.Redis, namespace: str, worker: str) -> None:
    client.delete(holding_key(namespace, worker))


def suspects(client: redis.Redis, namespace: str) -> dict[str, float]:
    """The suspects remembered by the last pass (`pipeline.redelivery.Redelivery.suspects`)."""
    raw: dict[Any, Any] = dict(client.hgetall(unacked_suspects_key(namespace)))
    return {_text(key): float(value) for key, value in raw.items()}


def keep_suspects(client: redis.Redis, namespace: str, found: dict[str, float]) -> None:
    """Remember exactly `found` until the next pass."""
    key = unacked_suspects_key(namespace)
    pipeline = client.pipeline()
    pipeline.delete(key)
    if found:
        mapping: dict[Any, Any] = dict(found)
        pipeline.hset(key, mapping=mapping)
    pipeline.execute()
