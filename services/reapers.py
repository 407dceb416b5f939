"""Reapers and kicks (DESIGN §6): what got lost or stuck is re-sent or failed, never left hanging.

- Messages fetched by a worker that died, or stranded in a live worker's ack set, go back on their
  queues (`services.redelivery`). When Redis lost its data (a restart without persistence), what
  waited on a message is sent again at once rather than after the usual quiet period.
- A `pending` observation with no progress for `SIGHTLINE_PENDING_RESEND_AFTER_S` whose id is in
  no queue (ready, in flight or delayed) lost its message: it is re-sent, at most
  `SIGHTLINE_PENDING_MAX_SENDS` sends in all, then failed `orphaned`. One still queued behind a
  long backlog is waiting, not lost, and is left alone.
- A `running` observation whose lease lapsed lost its worker (`services.observation_leases`): it is
  sent again (back to `pending`, one takeover more) unless it was taken over
  `SIGHTLINE_OBSERVATION_MAX_TAKEOVERS` times already; then it is failed `orphaned`.
- An action run `running` for longer than `SIGHTLINE_STUCK_RUN_AFTER_S` (2 h) is failed.
- A report `in_progress` whose run started more than `SIGHTLINE_STRANDED_REPORT_AFTER_S` (1 h)
  ago lost its `summarize_report`: failed with `research_run_stranded`.
- An action run `running` with no progress for `SIGHTLINE_PENDING_RESEND_AFTER_S` gets its
  `run_action` again, and so does a delivery left `pending` (or `sending` past its lease) its
  `deliver`; a delivery tried `MAX_DELIVERY_ATTEMPTS` times is failed.
- Teams with ungrouped signals get a `group_signals` message unless their processing is paused;
  a short Redis key keeps that to one kick per team every `KICK_EVERY_S`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlmodel import Session

from integrations.queues import queued_ids
from models import ObservationStatus
from models.reaper_queries import (
    end_lapsed,
    fail_stuck_runs,
    lapsed_running,
    mark_resent,
    orphan,
    stale_deliveries,
    stale_pending,
    stale_runs,
    teams_to_group,
    touch_delivery,
    touch_run,
)
from models.signal_queries import fail_stranded_report, stranded_reports
from pipeline.names import (
    DELIVER,
    GROUP_SIGNALS,
    KICK_EVERY_S,
    MAX_DELIVERY_ATTEMPTS,
    OBSERVATION_TIME_LIMIT_S,
    OBSERVE,
    RUN_ACTION,
    kick_key,
)
from pipeline.reports import transition
from services.context import Deps
from services.redelivery import redis_kept, redis_lost, requeue_unacked

log = structlog.get_logger(__name__)
BATCH = 500
# After Redis lost every message: at most this many pending rows re-sent in one tick (the in-flight
# caps keep far fewer pending).
LOST_BATCH = 20_000


@dataclass
class ReapOutcome:
    redis_lost: int = 0  # 1 when Redis came back without its data (and its messages)
    requeued: int = 0  # unacknowledged messages put back on their queues
    resent: int = 0
    orphaned_pending: int = 0
    taken_over: int = 0  # running rows whose worker stopped, sent again
    orphaned_running: int = 0
    failed_runs: int = 0
    stranded_reports: int = 0
    resent_runs: int = 0
    resent_deliveries: int = 0
    failed_deliveries: int = 0
    kicked: int = 0


def reap(deps: Deps, *, now: datetime | None = None) -> ReapOutcome:
    """One pass of every reaper and the grouping kicks; what each did."""
    now = now or deps.now()
    settings, outcome = deps.settings, ReapOutcome()
    lost = redis_lost(deps)
    outcome.redis_lost = int(lost)
    outcome.requeued = requeue_unacked(deps, now)
    told = _pending(deps, now, outcome, lost)
    _lapsed(deps, now, outcome)
    with deps.transaction() as session:
        stuck = now - timedelta(seconds=settings.stuck_run_after_s)
        error = f"the run did not finish within {settings.stuck_run_after_s // 60} minutes"
        outcome.failed_runs = fail_stuck_runs(session, stuck, error, now)
    with deps.transaction() as session:
        before = now - timedelta(seconds=settings.stranded_report_after_s)
        outcome.stranded_reports = _stranded(session, before, now)
    _lost_work(deps, now, outcome, lost)
    _kick(deps, now, outcome)
    if lost and told:
        redis_kept(deps, now)
    # An empty Redis with nothing to send again (a first start, a new namespace) is not news.
    found = (outcome.resent, outcome.orphaned_pending, outcome.taken_over, outcome.resent_runs)
    if any(found) or outcome.orphaned_running or outcome.failed_runs or outcome.resent_deliveries:
        log.warning("scheduler_reaped", **vars(outcome))
    elif lost:
        log.info("redis_found_empty", nothing_lost=True)
    return outcome


def _pending(deps: Deps, now: datetime, outcome: ReapOutcome, lost: bool) -> bool:
    """Pending rows whose message is in no queue: re-sent after a quiet period (at once when Redis
    lost every message), or failed when re-sent too often (never for Redis's own loss). False when
    Redis could not tell which ids are queued."""
    settings = deps.settings
    quiet = now if lost else now - timedelta(seconds=settings.pending_resend_after_s)
    with deps.read() as session:
        stale = stale_pending(session, quiet, LOST_BATCH if lost else BATCH)
    if not stale:
        return True
    queued = queued_ids(deps.redis(), settings.redis_namespace, OBSERVE.queue)
    if queued is None:
        return False  # cannot tell lost from waiting; try next tick
    resend = []
    with deps.transaction() as session:
        for observation_id, send_count in stale:
            if str(observation_id) in queued:
                continue
            if send_count >= settings.pending_max_sends and not lost:
                reason = f"orphaned:its message was lost {send_count} times"
                source = ObservationStatus.PENDING
                if orphan(session, observation_id, source, reason, now, send_count=send_count):
                    outcome.orphaned_pending += 1
            elif mark_resent(session, observation_id, send_count, now):
                resend.append(observation_id)
    outcome.resent = deps.sender().send_each(OBSERVE, resend)
    return True


def _lapsed(deps: Deps, now: datetime, outcome: ReapOutcome) -> None:
    """Running observations whose worker stopped: back to pending and sent again, or failed once
    they were taken over `SIGHTLINE_OBSERVATION_MAX_TAKEOVERS` times."""
    # A row claimed without a lease (by a worker older than leases) ran out with its time limit.
    unleased_before = now - timedelta(seconds=OBSERVATION_TIME_LIMIT_S)
    resend = []
    with deps.transaction() as session:
        for observation_id, attempt, takeovers in lapsed_running(session, now, unleased_before, BATCH):
            lapse = (session, observation_id, attempt, now, unleased_before)
            if takeovers >= deps.settings.observation_max_takeovers:
                outcome.orphaned_running += end_lapsed(*lapse, **_orphaned(takeovers, now))
            elif end_lapsed(*lapse, **_taken_over(takeovers, now)):
                resend.append(observation_id)
    outcome.taken_over = deps.sender().send_each(OBSERVE, resend)


def _taken_over(takeovers: int, now: datetime) -> dict:
    """A running row whose worker stopped, waiting again for a worker (with the reason it fails with
    if this goes on); the send counts as progress for the pending reaper."""
    return {
        "status": ObservationStatus.PENDING,
        "takeovers": takeovers + 1,
        "lease_until": None,
        "last_sent_at": now,
        "error_reason": "orphaned:the worker stopped while observing it",
    }


def _orphaned(takeovers: int, now: datetime) -> dict:
    reason = f"orphaned:the worker stopped {takeovers + 1} times while observing it"
    failed = ObservationStatus.FAILED
    return {"status": failed, "lease_until": None, "error_reason": reason, "completed_at": now}


def _lost_work(deps: Deps, now: datetime, outcome: ReapOutcome, lost: bool) -> None:
    """Re-send `run_action` and `deliver` for rows whose message was lost (both actors are idempotent),
    after a quiet period or at once when Redis lost every message; a delivery re-sent too often is
    failed."""
    settings = deps.settings
    quiet = now if lost else now - timedelta(seconds=settings.pending_resend_after_s)
    with deps.transaction() as session:
        runs = stale_runs(session, quiet, now - timedelta(seconds=settings.stuck_run_after_s), BATCH)
        resend_runs = [run_id for run_id, seen in runs if touch_run(session, run_id, seen, now)]
        leased = now - timedelta(seconds=settings.delivery_lease_s)
        resend, failed = [], 0
        for delivery_id, seen, attempts in stale_deliveries(session, quiet, leased, BATCH):
            if attempts >= MAX_DELIVERY_ATTEMPTS:
                error = f"gave up after {attempts} attempts"
                failed += touch_delivery(session, delivery_id, seen, now, status="failed", error=error)
            elif touch_delivery(session, delivery_id, seen, now, status="pending"):
                resend.append(delivery_id)
    sender = deps.sender()
    outcome.resent_runs = sender.send_each(RUN_ACTION, resend_runs)
    outcome.resent_deliveries = sender.send_each(DELIVER, resend)
    outcome.failed_deliveries = failed


def _stranded(session: Session, before: datetime, now: datetime) -> int:
    """Reports left `in_progress` by a summary run that died: failed, so a person sees them."""
    count = 0
    for report in stranded_reports(session, before):
        changes = transition(report, "failed", now=now, error="research_run_stranded")
        count += fail_stranded_report(session, report, changes)
    return count


def _kick(deps: Deps, now: datetime, outcome: ReapOutcome) -> None:
    with deps.read() as session:
        teams = teams_to_group(session, now)
    client, namespace = deps.redis(), deps.settings.redis_namespace
    for team_id in teams:
        if client.set(kick_key(namespace, team_id), 1, nx=True, ex=KICK_EVERY_S):
            deps.sender().send(GROUP_SIGNALS, team_id)
            outcome.kicked += 1
