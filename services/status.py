"""What `sightline status` shows: the scheduler, scanners (the setting one waits for, such as
GEMINI_API_KEY; how fast its observations drain and when its backlog will be done), actions, queues,
workers, recent failures (failed jobs per actor, failed observations per kind: `blob_missing`,
`provider_transient`…)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from integrations.leadership import current_leader, read_last_tick
from integrations.queues import queue_depths
from models import Observation, as_utc
from models.scheduler_queries import finished_since, in_flight_by, settling_count, unswept_count
from models.status_queries import (
    action_schedules,
    failures_since,
    observation_counts,
    observation_failures_since,
    report_counts,
    team_scanners_by_name,
    ungrouped_count,
)
from pipeline.names import workers_prefix
from pipeline.sampling import slot_start, sweep_slot
from pipeline.sweep import drain_eta_s
from services.budget import waiting_for
from services.context import Deps

# A scanner's drain rate is what it finished over the last DRAIN_WINDOW.
DRAIN_WINDOW = timedelta(minutes=10)


def status(deps: Deps, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything `status` prints, as plain data (also what `status --json` prints)."""
    now = now or deps.now()
    client, namespace = deps.redis(), deps.settings.redis_namespace
    with deps.read() as session:
        flying = in_flight_by(session, Observation.scanner_id)
        scanners = [
            _scanner_row(deps, session, scanner, now, flying.get(scanner.id, 0))
            for scanner in team_scanners_by_name(session)
        ]
        actions = [
            {
                "name": action.name,
                "enabled": action.enabled,
                "next_run_at": _iso(action.next_run_at),
                "last_run_at": _iso(action.last_run_at),
            }
            for action in action_schedules(session)
        ]
        observations = observation_counts(session)
        ungrouped = ungrouped_count(session)
        reports = report_counts(session)
        failures = failures_since(session, now - timedelta(hours=1))
        failed_observations = observation_failures_since(session, now - timedelta(hours=1))
    return {
        "now": now.isoformat(),
        "scheduler": {
            "leader": current_leader(client, namespace),
            "last_tick": read_last_tick(client, namespace),
        },
        "scanners": scanners,
        "actions": actions,
        "observations": observations,
        "signals": {"ungrouped": ungrouped},
        "reports": reports,
        "queues": queue_depths(client, namespace),
        "workers": workers(client, namespace),
        "failures_last_hour": failures,
        "observation_failures_last_hour": failed_observations,
    }


def _scanner_row(deps: Deps, session, scanner, now: datetime, in_flight: int) -> dict[str, Any]:
    settings = deps.settings
    interval, cutoff = settings.sweep_interval_s, now - timedelta(seconds=settings.settle_s)
    current = sweep_slot(str(scanner.id), now.timestamp(), interval)
    due_now = scanner.sweep_slot is None or scanner.sweep_slot < current
    upcoming = (
        now if due_now else datetime.fromtimestamp(slot_start(str(scanner.id), current + 1, interval), UTC)
    )
    watermark = (as_utc(scanner.last_swept_at) or cutoff, scanner.last_seen_session_id)
    # A Gemini scanner without GEMINI_API_KEY is skipped by every sweep: it waits, it is not swept.
    missing = waiting_for(str(scanner.provider), settings)
    swept = scanner.enabled and scanner.sampling_rate > 0 and missing is None
    # Settled recordings the scanner has not walked yet, whenever they ended (late data too).
    unswept = unswept_count(session, scanner.team_id, watermark, cutoff)
    return {
        "name": scanner.name,
        "id": str(scanner.id),
        "enabled": scanner.enabled,
        "sampling_rate": scanner.sampling_rate,
        "waiting_for": missing,
        "last_sweep_at": _iso(scanner.last_sweep_at),
        "next_sweep_at": _iso(upcoming) if swept else None,
        "watermark": [_iso(scanner.last_swept_at), scanner.last_seen_session_id],
        # The team's recordings still receiving events: the scanner walks them once they settle.
        "unswept": unswept,
        "settling": settling_count(session, scanner.team_id, cutoff),
        "estimated_monthly_observations": scanner.estimated_monthly_observations,
    } | _drain(session, scanner, now, in_flight, unswept)


def _drain(session, scanner, now: datetime, in_flight: int, unswept: int) -> dict[str, Any]:
    """How fast the scanner's observations finished lately, how many it still has to do (those in
    flight and its sample of the unswept recordings: before its query and eligibility, so at most),
    and how long that takes at this rate (None: nothing finished lately to go by)."""
    finished, first = finished_since(session, scanner.id, now - DRAIN_WINDOW)
    # Since the first finish in the window (a run that began a minute ago is not averaged over ten),
    # but 10 s at least: a burst is not a rate.
    window_s = max((now - as_utc(first)).total_seconds() if first is not None else 0.0, 10.0)
    backlog = in_flight + (round(unswept * scanner.sampling_rate) if scanner.enabled else 0)
    eta = drain_eta_s(backlog, finished, window_s)
    return {
        "in_flight": in_flight,
        "sweep_stopped": scanner.sweep_stopped,
        "drain_per_min": round(finished / window_s * 60, 1),
        "backlog": backlog,
        "backlog_eta_s": round(eta) if eta is not None else None,
    }


def workers(client: redis.Redis, namespace: str) -> list[dict[str, Any]]:
    """The workers that announced themselves within the last `WORKER_EXPIRE_S`."""
    seen = []
    for key in client.scan_iter(match=f"{workers_prefix(namespace)}*", count=500):
        raw = client.get(key)
        if raw:
            seen.append(json.loads(raw))
    return sorted(seen, key=lambda item: item.get("who", ""))


def _iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.isoformat() if value is not None else None
