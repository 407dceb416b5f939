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
- An action run `running` with no progress for `SIGHTLINE_PENDING_RESEND_AFTER_S` gets its
  `run_action` again, and so does a delivery left `pending` (or `sending` past its lease) its
  `deliver`; a delivery tried 8 times is failed.
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
    stale_deliveries,
    stale_pending,
    stale_running,
    stale_runs,
    teams_to_group,
    touch_delivery,
    touch_run,
)
from models.signal_queries import stranded_reports
from pipeline.reports import transition
from scheduler.dispatch import DELIVER, GROUP_SIGNALS, OBSERVE, RUN_ACTION, Dispatcher
from settings import Settings

log = structlog.get_logger(__name__)
OBSERVATION_TIME_LIMIT_S = 10 * 60  # the observe_session actor's time limit
BATCH = 500
SENDING_LEASE = timedelta(minutes=10)  # as actors/action_work.SENDING_LEASE
MAX_DELIVERY_ATTEMPTS = 8
KICK_EVERY_S = 15


@dataclass
class ReapOutcome:
    resent: int = 0
    orphaned_pending: int = 0
    orphaned_running: int = 0
    failed_runs: int = 0
    stranded_reports: int = 0
    resent_runs: int = 0
    resent_deliveries: int = 0
    failed_deliveries: int = 0
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
    _lost_work(sessions, dispatcher, settings, now, outcome)
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


def _lost_work(
    sessions, dispatcher: Dispatcher, settings: Settings, now: datetime, outcome: ReapOutcome
) -> None:
    """Re-send `run_action` and `deliver` for rows whose message was lost (both actors are idempotent);
    a delivery re-sent too often is failed."""
    quiet = now - timedelta(seconds=settings.pending_resend_after_s)
    with session_scope(sessions) as session:
        runs = stale_runs(session, quiet, now - timedelta(seconds=settings.stuck_run_after_s), BATCH)
        resend_runs = [row.id for row in runs if touch_run(session, row.id, row.updated_at, now)]
        deliveries = stale_deliveries(session, quiet, now - SENDING_LEASE, BATCH)
        resend, failed = [], 0
        for row in deliveries:
            if row.attempts >= MAX_DELIVERY_ATTEMPTS:
                error = f"gave up after {row.attempts} attempts"
                failed += touch_delivery(session, row.id, row.updated_at, now, status="failed", error=error)
            elif touch_delivery(session, row.id, row.updated_at, now, status="pending"):
                resend.append(row.id)
    for run_id in resend_runs:
        dispatcher.send(RUN_ACTION, str(run_id))
    for delivery_id in resend:
        dispatcher.send(DELIVER, str(delivery_id))
    outcome.resent_runs, outcome.resent_deliveries, outcome.failed_deliveries = (
        len(resend_runs),
        len(resend),
        failed,
    )


def _stranded(session, before: datetime, now: datetime) -> int:
    """Reports left `in_progress` by a summary run that died: failed, so a person sees them."""
    from sqlmodel import col, update

    from models import SignalReport

    count = 0
    for report in stranded_reports(session, before):
        changes = transition(report, "failed", now=now, error="research_run_stranded")
        statement = (  # only if nothing moved it since it was read (a summary finishing right now)
            update(SignalReport)
            .where(col(SignalReport.id) == report.id, SignalReport.status == "in_progress",
                   SignalReport.last_run_at == report.last_run_at)
            .values(**changes)
        )  # fmt: skip
        count += session.exec(statement).rowcount
    return count


def _kick(sessions, dispatcher, client, settings: Settings, now: datetime, outcome: ReapOutcome) -> None:
    with session_scope(sessions) as session:
        teams = teams_to_group(session, now)
    for team_id in teams:
        key = f"{settings.redis_namespace}:sightline:kick:group_signals:{team_id}"
        if client.set(key, 1, nx=True, ex=KICK_EVERY_S):
            dispatcher.send(GROUP_SIGNALS, team_id)
            outcome.kicked += 1
