"""Names and numbers every process must agree on: queues, actors, time limits, leases, Redis keys.

Workers, the scheduler, the CLI and the API meet only through the database and Redis, so what they
call things there, and how long they wait for each other, is written once, here. Pure constants.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """Where a message goes and how its actor runs: queue, actor, time limit, retries, backoff."""

    queue: str
    actor: str
    time_limit_ms: int
    max_retries: int
    min_backoff_ms: int
    max_backoff_ms: int

    def actor_options(self) -> dict[str, object]:
        """This route as Dramatiq actor options: `@dramatiq.actor(**ROUTE.actor_options(), throws=...)`."""
        return {
            "actor_name": self.actor,
            "queue_name": self.queue,
            "time_limit": self.time_limit_ms,
            "max_retries": self.max_retries,
            "min_backoff": self.min_backoff_ms,
            "max_backoff": self.max_backoff_ms,
        }


MINUTE_MS = 60_000
OBSERVE = Route("observe", "observe_session", 10 * MINUTE_MS, 4, 15_000, 60_000)
# Several observations of heuristic scanners in one message (`services.observe.run_observations`):
# each costs a fraction of a millisecond, less than the message that carries it.
OBSERVE_BATCH = Route("observe", "observe_batch", 10 * MINUTE_MS, 4, 15_000, 60_000)
OBSERVE_BATCH_SIZE = 8
# Sent by Dramatiq's Retries middleware when an observe_session or observe_batch message has no
# retries left.
OBSERVE_GAVE_UP = Route("observe", "observation_gave_up", MINUTE_MS, 3, 1_000, 30_000)
RUN_ACTION = Route("actions", "run_action", 10 * MINUTE_MS, 3, 10_000, 5 * MINUTE_MS)
DELIVER = Route("deliver", "deliver", 5 * MINUTE_MS, 5, 2_000, MINUTE_MS)
# Sent by Dramatiq's Retries middleware when a deliver message has no retries left.
DELIVERY_GAVE_UP = Route("deliver", "delivery_gave_up", MINUTE_MS, 3, 1_000, 30_000)
GROUP_SIGNALS = Route("signals", "group_signals", 30 * MINUTE_MS, 3, 5_000, 5 * MINUTE_MS)
SUMMARIZE_REPORT = Route("signals", "summarize_report", 30 * MINUTE_MS, 3, 5_000, 5 * MINUTE_MS)
# Merges a live session's waiting batches into its recording (debounced by `compact_key`).
COMPACT = Route("ingest", "compact_recording", 5 * MINUTE_MS, 5, 1_000, MINUTE_MS)
# Evaluates one (evaluation, observation) result: a judge's Gemini call at most twice, or checks.
EVALUATE = Route("evaluate", "evaluate_observation", 5 * MINUTE_MS, 3, 10_000, 2 * MINUTE_MS)
# Sent by Dramatiq's Retries middleware when an evaluate message has no retries left.
EVALUATION_GAVE_UP = Route("evaluate", "evaluation_gave_up", MINUTE_MS, 3, 1_000, 30_000)
# Runs one claimed scout run: reads a team's last 8 days of sessions, no more than a few retries.
RUN_SCOUT = Route("scouts", "run_scout", 10 * MINUTE_MS, 2, 10_000, 2 * MINUTE_MS)
ROUTES = (
    OBSERVE,
    OBSERVE_BATCH,
    OBSERVE_GAVE_UP,
    RUN_ACTION,
    DELIVER,
    DELIVERY_GAVE_UP,
    GROUP_SIGNALS,
    SUMMARIZE_REPORT,
    COMPACT,
    EVALUATE,
    EVALUATION_GAVE_UP,
    RUN_SCOUT,
)
QUEUES = tuple(dict.fromkeys(route.queue for route in ROUTES))

# No attempt outlives its actor's time limit: a running observation claimed without a lease (by a
# worker older than leases) and started longer ago than this lost its worker.
OBSERVATION_TIME_LIMIT_S = OBSERVE.time_limit_ms // 1000
MAX_DELIVERY_ATTEMPTS = 8
# At most one Slack message per channel in this interval, across every worker.
SLACK_PACE_MS = 1_000
# One group_signals kick per team at most this often.
KICK_EVERY_S = 15
# The grouping lock's lifetime: renewed every third of it while a pass runs (and checked per signal),
# so a worker killed mid-pass holds the team's grouping up for at most this long.
GROUPING_LOCK_TTL_S = 15
# Workers announce themselves this often, and are presumed gone after this long without a word.
WORKER_REFRESH_S = 10
WORKER_EXPIRE_S = 30
# Dramatiq's Redis broker takes a worker without a heartbeat for this long to be dead (its default).
BROKER_HEARTBEAT_TIMEOUT_MS = 60_000
# A message id in a live worker's ack set that the worker has not reported holding for this long
# (several of its reports) was stranded there by a fetch whose reply was lost: it is requeued.
STRANDED_AFTER_S = 60


def _key(namespace: str, *parts: object) -> str:
    return ":".join((namespace, "sightline", *map(str, parts)))


def leader_key(namespace: str) -> str:
    return _key(namespace, "scheduler", "leader")


def last_tick_key(namespace: str) -> str:
    return _key(namespace, "scheduler", "last_tick")


def compact_key(namespace: str, team_id: int, session_id: str) -> str:
    """Set while a merge of this session's waiting batches is already on its way (a debounce)."""
    digest = hashlib.sha256(session_id.encode()).hexdigest()[:24]
    return _key(namespace, "ingest", "compact", team_id, digest)


def job_counters_key(namespace: str) -> str:
    """A hash of every actor attempt counted by `{actor}|{status}` and its summed `…|ms`."""
    return _key(namespace, "metrics", "jobs")


def gemini_counters_key(namespace: str) -> str:
    """A hash of Gemini requests counted by `{generate|embed}|{ok or the error's class}`."""
    return _key(namespace, "metrics", "gemini")


def recent_ticks_key(namespace: str) -> str:
    return _key(namespace, "scheduler", "recent_ticks")


def queue_samples_key(namespace: str) -> str:
    return _key(namespace, "ops", "queue_samples")


def queue_sample_gate_key(namespace: str) -> str:
    return _key(namespace, "ops", "queue_sample_gate")


def workers_prefix(namespace: str) -> str:
    return _key(namespace, "workers", "")


def holding_key(namespace: str, worker_id: str) -> str:
    """The ids of the messages a worker (by its broker id) fetched and has not acknowledged yet."""
    return _key(namespace, "holding", worker_id)


def unacked_suspects_key(namespace: str) -> str:
    """Ids seen in a live worker's ack set that it did not report holding, and since when."""
    return _key(namespace, "unacked", "suspects")


def redis_marker_key(namespace: str) -> str:
    """Set by the scheduler and never expiring: when it is gone, Redis lost its data (a restart
    without persistence, a flush) and every message with it."""
    return _key(namespace, "scheduler", "redis_marker")


def kick_key(namespace: str, team_id: int) -> str:
    return _key(namespace, "kick", "group_signals", team_id)


def grouping_lock_key(namespace: str, team_id: int) -> str:
    return _key(namespace, "group", team_id)


def slack_pace_key(namespace: str, channel: str) -> str:
    return _key(namespace, "slack-pace", channel)


def gemini_rpm_key(namespace: str) -> str:
    """The Gemini requests admitted in the last minute: a sorted set of request ids scored by when (µs)."""
    return f"{namespace}:gemini:rpm:v2"


def gemini_concurrency_key(namespace: str) -> str:
    """The Gemini calls in flight: a sorted set of request ids scored by when their hold lapses (µs)."""
    return f"{namespace}:gemini:concurrency:v2"


def idempotency_key(namespace: str, caller: str, key: str) -> str:
    """Where the first response to a POST with an `Idempotency-Key` is kept (24 h)."""
    return _key(namespace, "idempotency", caller, key)
