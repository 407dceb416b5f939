"""Reapers and kicks (DESIGN §6): what got lost or stuck is re-sent or failed, never left hanging.

- A `pending` observation with no progress for `SIGHTLINE_PENDING_RESEND_AFTER_S` whose id is in
  no queue (ready, in flight or delayed) lost its message: it is re-sent, at most
  `SIGHTLINE_PENDING_MAX_SENDS` sends in all, then failed `orphaned`. One still queued behind a
  long backlog is waiting, not lost, and is left alone.
- A `running` observation older than the actor's time limit plus a grace period lost its worker:
  failed `orphaned`.
- An action run `running` for longer than `SIGHTLINE_STUCK_RUN_AFTER_S` (2 h) is failed.
- A report `in_progress` whose run started more than `SIGHTLINE_STRANDED_REPORT_AFTER_S` (1 h)
  ago lost its `summarize_report`: failed with `research_run_stranded`.
- Teams with ungrouped signals get a `group_signals` message unless their processing is paused;
  a short Redis key keeps that to one kick per team every 15 s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
import structlog

from models import ObservationStatus, session_scope
from models.scheduler_queries import (
    fail_stuck_runs,
    mark_resent,
    orphan,
    stale_pending,
    stale_running,
    teams_to_group,
)
from models.signal_queries import stranded_reports
from pipeline.reports import transition
from scheduler.dispatch import GROUP_SIGNALS, OBSERVE, Dispatcher
from settings import Settings

log = structlog.get_logger(__name__)
OBSERVATION_TIME_LIMIT_S = 10 * 60  # the observe_session actor's time limit
BATCH = 500
KICK_EVERY_S = 15


@dataclass
class ReapOutcome:
    resent: int = 0
    orphaned_pending: int = 0
    orphaned_running: int = 0
    failed_runs: int = 0
    stranded_reports: int = 0
    kicked: int = 0


def queued_ids(client: redis.Redis, namespace: str, queue: str) -> set[str] | None:
    """Observation ids present in a queue's ready, in-flight and delayed messages (None: unknown)."""
    found: set[str] = set()
    try:
        for key in (f"{namespace}:{queue}.msgs", f"{namespace}:{queue}.DQ.msgs"):
            for _, payload in client.hscan_iter(key, count=1000):
                try:
                    args = json.loads(payload).get("args") or []
                except (ValueError, AttributeError):
                    continue
                found.update(str(arg) for arg in args[:1])
    except redis.RedisError:
        return None
    return found


def reap(
    sessions, dispatcher: Dispatcher, client: redis.Redis, settings: Settings, now: datetime
) -> ReapOutcome:
    outcome = ReapOutcome()
    _pending(sessions, dispatcher, client, settings, now, outcome)
    before = now - timedelta(seconds=OBSERVATION_TIME_LIMIT_S + settings.orphan_grace_s)
    with session_scope(sessions) as session:
        for observation_id in stale_running(session, before, BATCH):
            if orphan(session, observation_id, ObservationStatus.RUNNING,
                      "orphaned:the worker stopped while analysing the session", now):  # fmt: skip
                outcome.orphaned_running += 1
    with session_scope(sessions) as session:
        outcome.failed_runs = fail_stuck_runs(
            session, now - timedelta(seconds=settings.stuck_run_after_s),
            f"the run did not finish within {settings.stuck_run_after_s // 60} minutes", now,
        )  # fmt: skip
    with session_scope(sessions) as session:
        before = now - timedelta(seconds=settings.stranded_report_after_s)
        outcome.stranded_reports = _stranded(session, before, now)
    _kick(sessions, dispatcher, client, settings, now, outcome)
    if outcome.resent or outcome.orphaned_pending or outcome.orphaned_running or outcome.failed_runs:
        log.warning("scheduler_reaped", **vars(outcome))
    return outcome


def _pending(sessions, dispatcher, client, settings: Settings, now: datetime, outcome: ReapOutcome) -> None:
    with session_scope(sessions) as session:
        stale = stale_pending(session, now - timedelta(seconds=settings.pending_resend_after_s), BATCH)
    if not stale:
        return
    queued = queued_ids(client, settings.redis_namespace, OBSERVE[0])
    if queued is None:
        return  # cannot tell lost from waiting; try next tick
    resend = []
    with session_scope(sessions) as session:
        for row in stale:
            if str(row.id) in queued:
                continue
            if row.send_count >= settings.pending_max_sends:
                reason = f"orphaned:its message was lost {row.send_count} times"
                if orphan(session, row.id, ObservationStatus.PENDING, reason, now, send_count=row.send_count):
                    outcome.orphaned_pending += 1
            elif mark_resent(session, row.id, row.send_count, now):
                resend.append(row.id)
    outcome.resent = dispatcher.observe(resend)


def _stranded(session, before: datetime, now: datetime) -> int:
    """Reports left `in_progress` by a summary run that died: failed, so a person sees them."""
    count = 0
    for report in stranded_reports(session, before):
        for field, value in transition(report, "failed", now=now, error="research_run_stranded").items():
            setattr(report, field, value)
        session.add(report)
        count += 1
    return count


def _kick(sessions, dispatcher, client, settings: Settings, now: datetime, outcome: ReapOutcome) -> None:
    with session_scope(sessions) as session:
        teams = teams_to_group(session, now)
    for team_id in teams:
        key = f"{settings.redis_namespace}:sightline:kick:group_signals:{team_id}"
        if client.set(key, 1, nx=True, ex=KICK_EVERY_S):
            dispatcher.send(GROUP_SIGNALS, team_id)
            outcome.kicked += 1
