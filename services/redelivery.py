"""Messages Redis holds for nobody, and Redis losing them all (DESIGN §6): the reaper's first steps.

- `requeue_unacked`: the messages a dead worker had fetched (prefetched or running) and the ids
  stranded in a live worker's ack set by a fetch whose reply was lost go back on their queues
  (`pipeline.redelivery` decides which) within a minute or two, instead of whenever Dramatiq's
  probabilistic maintenance gets to them, or never.
- `redis_lost`: a key the scheduler sets and that never expires is gone when Redis came back empty
  (restarted without persistence, flushed): every queued message went with it, so the reaper
  re-sends what waited on them at once instead of after `SIGHTLINE_PENDING_RESEND_AFTER_S`. The
  first tick of a new installation finds no marker either; it re-sends what is not queued, which
  is what should happen to it anyway. `redis_kept` sets the marker once that is done.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from integrations.ack_sets import forget_workers, keep_suspects, read_unacked, requeue, suspects
from pipeline.names import BROKER_HEARTBEAT_TIMEOUT_MS, QUEUES, STRANDED_AFTER_S, redis_marker_key
from pipeline.redelivery import redeliver
from services.context import Deps

log = structlog.get_logger(__name__)


def requeue_unacked(deps: Deps, now: datetime) -> int:
    """Put back on their queues the unacknowledged messages nobody is working on; how many."""
    client, namespace = deps.redis(), deps.settings.redis_namespace
    decision = redeliver(
        read_unacked(client, namespace, QUEUES),
        suspects(client, namespace),
        now.timestamp(),
        heartbeat_timeout_s=BROKER_HEARTBEAT_TIMEOUT_MS / 1000,
        stranded_after_s=STRANDED_AFTER_S,
    )
    moved = 0
    for (worker, queue), ids in decision.requeue.items():
        moved += requeue(client, namespace, worker, queue, ids)
    keep_suspects(client, namespace, decision.suspects)
    forget_workers(client, namespace, decision.forget)
    if decision.requeue:
        dead = sorted(decision.dead_workers)
        log.warning("unacked_messages_requeued", requeued=moved, dead_workers=dead)
    return moved


def redis_lost(deps: Deps) -> bool:
    """Whether Redis lost its data (and the queued messages) since the scheduler last looked."""
    return not deps.redis().exists(redis_marker_key(deps.settings.redis_namespace))


def redis_kept(deps: Deps, now: datetime) -> None:
    """Mark Redis as holding our data (after what it lost was sent again)."""
    deps.redis().set(redis_marker_key(deps.settings.redis_namespace), now.isoformat())
