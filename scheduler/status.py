"""What `sightline status` shows: the scheduler, scanners, actions, queues, workers, recent failures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from sqlmodel import col, func, select

from actors.presence import workers_prefix
from models import JobRun, JobStatus, Observation, Scanner, Signal, SignalReport, VisionAction, as_utc
from models.scheduler_queries import unswept_count
from pipeline.sampling import slot_start, sweep_slot
from scheduler.daemon import describe_last_tick
from scheduler.leader import Leadership
from settings import Settings

QUEUES = ("observe", "actions", "signals", "deliver")


def _iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.isoformat() if value is not None else None


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


def workers(client: redis.Redis, namespace: str) -> list[dict[str, Any]]:
    seen = []
    for key in client.scan_iter(match=f"{workers_prefix(namespace)}*", count=500):
        raw = client.get(key)
        if raw:
            seen.append(json.loads(raw))
    return sorted(seen, key=lambda item: item.get("who", ""))


def collect(settings: Settings, sessions, client: redis.Redis, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    namespace = settings.redis_namespace
    leader = Leadership(client, namespace, settings.leader_ttl_s).current()
    cutoff = now - timedelta(seconds=settings.settle_s)
    with sessions() as session:
        scanner_rows = []
        for scanner in session.exec(select(Scanner).order_by(Scanner.name)):
            interval = settings.sweep_interval_s
            current = sweep_slot(str(scanner.id), now.timestamp(), interval)
            upcoming = (
                now
                if scanner.sweep_slot is None or scanner.sweep_slot < current
                else datetime.fromtimestamp(slot_start(str(scanner.id), current + 1, interval), UTC)
            )
            watermark = (as_utc(scanner.last_swept_at) or cutoff, scanner.last_seen_session_id)
            scanner_rows.append({
                "name": scanner.name,
                "id": str(scanner.id),
                "enabled": scanner.enabled,
                "sampling_rate": scanner.sampling_rate,
                "last_sweep_at": _iso(scanner.last_sweep_at),
                "next_sweep_at": _iso(upcoming) if scanner.enabled and scanner.sampling_rate > 0 else None,
                "watermark": [_iso(scanner.last_swept_at), scanner.last_seen_session_id],
                "unswept": unswept_count(session, scanner.team_id, watermark, cutoff),
                "estimated_monthly_observations": scanner.estimated_monthly_observations,
            })  # fmt: skip
        actions = [
            {"name": action.name, "enabled": action.enabled, "next_run_at": _iso(action.next_run_at),
             "last_run_at": _iso(action.last_run_at)}
            for action in session.exec(select(VisionAction).order_by(VisionAction.name))
        ]  # fmt: skip
        observations = dict(
            session.exec(select(Observation.status, func.count()).group_by(Observation.status)).all()
        )
        ungrouped = session.exec(
            select(func.count())
            .select_from(Signal)
            .where(col(Signal.grouped_at).is_(None), col(Signal.deleted).is_(False))
        ).one()
        reports = dict(
            session.exec(select(SignalReport.status, func.count()).group_by(SignalReport.status)).all()
        )
        failures = dict(
            session.exec(
                select(JobRun.actor, func.count())
                .where(JobRun.status == JobStatus.FAILED, JobRun.started_at >= now - timedelta(hours=1))
                .group_by(col(JobRun.actor))
            ).all()
        )
    return {
        "now": now.isoformat(),
        "scheduler": {"leader": leader, "last_tick": describe_last_tick(client, namespace)},
        "scanners": scanner_rows,
        "actions": actions,
        "observations": {str(status): count for status, count in observations.items()},
        "signals": {"ungrouped": ungrouped},
        "reports": {str(status): count for status, count in reports.items()},
        "queues": queue_depths(client, namespace),
        "workers": workers(client, namespace),
        "failures_last_hour": failures,
    }
