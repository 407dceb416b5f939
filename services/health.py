"""Is Sightline well? Liveness, readiness (`/readyz`: the database and Redis answer), the probe of
`sightline status --check` (a leader and a live worker), and the numbers `/metrics` exposes.

Every number comes from what the processes share, read at scrape time, so one scrape of any API
process sees every worker and scheduler, however many there are: counts of rows from the database,
queue depths from Redis, and actor attempts from counters every worker adds to in Redis (one
command to read, however long the job history).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.leadership import current_leader, read_last_tick
from integrations.queues import counters, job_counters, queue_depths
from models.status_queries import (
    database_answers,
    delivery_counts,
    observation_counts,
    report_counts,
    token_totals,
)
from pipeline.names import gemini_counters_key, job_counters_key
from services.context import Deps
from services.status import workers


def readiness(deps: Deps) -> dict[str, str]:
    """`ok` or what went wrong, for the database and for Redis."""
    found = {}
    try:
        with deps.read() as session:
            database_answers(session)
        found["database"] = "ok"
    except Exception as exc:  # any failure means not ready; its kind is the answer
        found["database"] = f"unreachable ({type(exc).__name__})"
    try:
        deps.redis().ping()
        found["redis"] = "ok"
    except Exception as exc:
        found["redis"] = f"unreachable ({type(exc).__name__})"
    return found


def problems(status: dict[str, Any]) -> list[str]:
    """What `status --check` fails on: no scheduler leader, no live worker."""
    found = []
    if not status["scheduler"]["leader"]:
        found.append("no scheduler is leading (start `sightline scheduler` or `sightline up`)")
    if not status["workers"]:
        found.append("no worker is alive (start `sightline worker` or `sightline up`)")
    return found


@dataclass(frozen=True)
class Snapshot:
    queues: dict[str, dict[str, int]]
    observations: dict[str, int]
    reports: dict[str, int]
    deliveries: dict[str, int]
    jobs: list[tuple[str, str, int, float]]
    tokens: dict[str, int]
    workers: list[dict[str, Any]]
    gemini: dict[str, int]  # `{kind}|{outcome}` → requests
    leader: bool
    last_tick_ms: float | None


def snapshot(deps: Deps) -> Snapshot:
    client, namespace = deps.redis(), deps.settings.redis_namespace
    with deps.read() as session:
        observations, reports = observation_counts(session), report_counts(session)
        deliveries, tokens = delivery_counts(session), token_totals(session)
    jobs = job_counters(client, job_counters_key(namespace))
    tick = read_last_tick(client, namespace) or {}
    return Snapshot(
        queues=queue_depths(client, namespace),
        observations=observations,
        reports=reports,
        deliveries=deliveries,
        jobs=jobs,
        tokens=tokens,
        workers=workers(client, namespace),
        gemini=counters(client, gemini_counters_key(namespace)),
        leader=current_leader(client, namespace) is not None,
        last_tick_ms=tick.get("duration_ms"),
    )
