"""The operators' view (`/ops`): queue depths over time, the job history, failed observations and
their retry, workers and the scheduler, action runs with their deliveries, and this month's credit
use per scanner. Operators see every team; the pages check the role (`models.Role.OPERATOR`).

Queue depths are sampled by the scheduler's leader (`sample_queues`, at most once a minute) into
Redis and kept for seven days, so the chart has a point per minute whichever process draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from integrations.leadership import read_recent_ticks
from integrations.queues import (
    dead_messages,
    depth_history,
    drop_dead,
    job_counters,
    queue_depths,
    record_depths,
    route_of,
)
from models import Delivery, JobRun, Observation
from models.status_queries import (
    credits_by_scanner,
    failed_deliveries,
    failed_observations,
    job_actors,
    job_runs,
    recent_action_runs,
)
from pipeline.errors import NotFoundError
from pipeline.names import job_counters_key, queue_sample_gate_key, queue_samples_key
from services.context import Deps
from services.observations import retry_observation
from services.reports import as_uuid
from services.status import status

SAMPLE_EVERY_S = 60
KEEP_SAMPLES_S = 7 * 86_400
JOBS_PAGE = 50


def sample_queues(deps: Deps, *, now: datetime | None = None, every_s: float = SAMPLE_EVERY_S) -> bool:
    """Record every queue's depths, unless a sample was taken in the last `every_s` seconds (by any
    process); whether one was taken."""
    client, namespace = deps.redis(), deps.settings.redis_namespace
    at = (now or deps.now()).timestamp()
    gate = queue_sample_gate_key(namespace)
    if every_s > 0 and not client.set(gate, str(at), nx=True, ex=max(1, int(every_s))):
        return False
    jobs = {
        f"{actor}|{status}": count
        for actor, status, count, _ in job_counters(client, job_counters_key(namespace))
    }
    record_depths(
        client, queue_samples_key(namespace), at, queue_depths(client, namespace), KEEP_SAMPLES_S, jobs
    )
    return True


def queue_history(deps: Deps, hours: float, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The samples of the last `hours`, oldest first."""
    since = (now or deps.now()) - timedelta(hours=hours)
    return depth_history(deps.redis(), queue_samples_key(deps.settings.redis_namespace), since.timestamp())


@dataclass(frozen=True)
class Overview:
    status: dict[str, Any]  # `services.status.status`: leader, last tick, scanners, queues, workers
    failed: list[Observation]
    credits: list[tuple[str, int, int]]  # scanner, observations, credits this month
    action_runs: list[tuple[Any, str, dict[str, int]]]
    failed_deliveries: list[Delivery]
    ticks: list[dict[str, Any]]  # the leader's newest ticks, newest first


def overview(deps: Deps, *, now: datetime | None = None) -> Overview:
    now = now or deps.now()
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with deps.read() as session:
        failed = list(failed_observations(session, 50))
        credits = credits_by_scanner(session, month)
        runs = recent_action_runs(session, 20)
        deliveries = list(failed_deliveries(session, 20))
    ticks = read_recent_ticks(deps.redis(), deps.settings.redis_namespace)
    return Overview(status(deps, now=now), failed, credits, runs, deliveries, ticks)


@dataclass(frozen=True)
class Jobs:
    count: int
    rows: list[JobRun]
    actors: list[str]


def jobs(
    deps: Deps,
    *,
    actor: str | None,
    status_: str | None,
    hours: float | None,
    offset: int,
    now: datetime | None = None,
) -> Jobs:
    since = (now or deps.now()) - timedelta(hours=hours) if hours else None
    with deps.read() as session:
        count, rows = job_runs(
            session, actor=actor, status=status_, since=since, limit=JOBS_PAGE, offset=offset
        )
        return Jobs(count, list(rows), job_actors(session))


def retry_failed(deps: Deps, observation_id: str) -> str:
    """Retry a failed observation of any team (the operator's view), through the same use case as
    `sightline observations retry`; the new observation's id. Raises as that does."""
    key = as_uuid(observation_id)
    with deps.read() as session:
        found = session.get(Observation, key) if key else None
        team_id = found.team_id if found else None
    if team_id is None:
        raise NotFoundError(f"no observation {observation_id!r}")
    return str(retry_observation(deps, team_id, observation_id))


def dead_letters(deps: Deps) -> list[dict[str, Any]]:
    """Messages Dramatiq gave up on (retries exhausted or refused), newest first."""
    return dead_messages(deps.redis(), deps.settings.redis_namespace)


def resend_dead(deps: Deps, queue: str, message_id: str) -> bool:
    """Send a dead-lettered message again, as a new message with the same arguments, and forget the
    dead one; False when there is no such message or its actor is not one of ours."""
    client, namespace = deps.redis(), deps.settings.redis_namespace
    found = next(
        (item for item in dead_messages(client, namespace, limit=1000) if item["id"] == message_id), None
    )
    route = route_of(found["actor"]) if found and found["queue"] == queue else None
    if found is None or route is None:
        return False
    deps.sender().send(route, *found["args"])
    drop_dead(client, namespace, queue, message_id)
    return True


def delete_dead(deps: Deps, queue: str, message_id: str) -> bool:
    return drop_dead(deps.redis(), deps.settings.redis_namespace, queue, message_id) is not None
