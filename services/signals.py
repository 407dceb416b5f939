"""Signals (DESIGN §7): group a team's signals into reports; pause and resume that grouping.

Grouping runs for one team at a time across all workers (a Redis lock per team, short-lived and
renewed by a heartbeat while the pass runs, so a killed worker holds it seconds, not minutes); it
takes the team's ungrouped signals in arrival order, batch by batch, and places each in its own
transaction (`services.grouping`). A worker killed mid-batch leaves the rest ungrouped, and the
next run redoes them; a signal already grouped is never grouped again (the update is conditional on
`grouped_at`).
The pause is stored per team in the database, so every worker and the scheduler see it.

A signal's stack traces (`signal_stack_traces`) are the console errors its finding cites, read when
shown and de-minified with the team's source maps by `services.symbol_sets`, as log explanations'.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import numpy as np
import structlog
from sqlmodel import Session

from integrations.embeddings import embedder
from models import ProcessingState, as_utc
from models.signal_queries import paused_until, pool_rows, ungrouped
from models.signals import Signal
from pipeline.embeddings import Embedder, from_bytes
from pipeline.errors import InvalidField, NotFoundError
from pipeline.grouping import WINDOW_DAYS, Pool, thresholds_for
from pipeline.names import GROUPING_LOCK_TTL_S, grouping_lock_key
from pipeline.report_text import judge_call, parse_judge
from pipeline.stack_frames import ShownTrace, thrown_between
from services.context import Deps
from services.grouping import Batch, GroupResult, Judge, assign, pending
from services.heartbeat import BEATS_PER_LEASE, heartbeat
from services.symbol_sets import recording_stack_traces

log = structlog.get_logger(__name__)
BATCH = 200
CITED_NEAR_S = 1.0  # a finding cites whole seconds; an error-click's error comes up to 1 s after its click
MAX_TRACED_SESSIONS = 20  # recordings read for one page of signals at most


def group_signals(deps: Deps, team_id: int) -> GroupResult:
    """Group the team's ungrouped signals (see the module docstring). `busy` when another worker
    holds the team's lock, `paused` while its processing is paused; embedding errors are raised."""
    from redis.exceptions import LockError  # here: the CLI imports this module for the pause alone

    result = GroupResult()
    key = grouping_lock_key(deps.settings.redis_namespace, team_id)
    lock = deps.redis().lock(key, timeout=GROUPING_LOCK_TTL_S, blocking=False, thread_local=False)
    if not lock.acquire(blocking=False):
        result.busy = True
        return result
    try:
        with heartbeat(
            lambda: bool(lock.extend(GROUPING_LOCK_TTL_S, replace_ttl=True)),
            every_s=GROUPING_LOCK_TTL_S / BEATS_PER_LEASE,
            name="grouping-lock",
            team_id=team_id,
        ):
            embed = embedder(deps.settings, deps.gemini)
            judge = _judge(deps)
            while _group_batch(deps, team_id, embed, judge, lock, result):
                pass
    except LockError:
        log.warning("grouping_lock_lost", team_id=team_id)
    finally:
        with contextlib.suppress(LockError):
            lock.release()
    return result


def signal_stack_traces(deps: Deps, team_id: int, signals: list[Signal]) -> dict[UUID, str]:
    """By signal id, the console errors with stacks thrown within its finding's moments (`start_time`
    to `end_time` of its session, ± `CITED_NEAR_S`; a repeated one once), each with the top frames of
    its stack de-minified, or minified with why. Signals citing none are left out, as are the sessions past
    the first `MAX_TRACED_SESSIONS` and those whose recording is gone."""
    cited: dict[str, list[tuple[UUID, float, float]]] = {}
    for signal in signals:
        extra = signal.extra or {}
        session_id, start, end = extra.get("session_id"), extra.get("start_time"), extra.get("end_time")
        if isinstance(session_id, str) and isinstance(start, int | float) and isinstance(end, int | float):
            cited.setdefault(session_id, []).append((signal.id, float(start), float(end)))
    found: dict[UUID, str] = {}
    for session_id in list(cited)[:MAX_TRACED_SESSIONS]:
        try:
            traces = recording_stack_traces(deps, team_id, session_id)
        except NotFoundError:
            continue
        for signal_id, start, end in cited[session_id]:
            distinct: dict[tuple, ShownTrace] = {}
            for shown in thrown_between(traces, start, end, CITED_NEAR_S):
                distinct.setdefault((shown.trace.message, shown.frames), shown)  # a repeat: its first
            if distinct:
                found[signal_id] = "\n".join(shown.top for shown in distinct.values())
    return found


def pause_processing(
    deps: Deps,
    team_id: int,
    *,
    until: datetime | None = None,
    duration: timedelta | float | None = None,
    now: datetime | None = None,
) -> datetime:
    """Stop grouping the team's signals (they are still stored) until a time (UTC unless it says
    otherwise), or for a while (a timedelta or seconds); when the pause ends. Raises `InvalidField`
    (`until`, or `for` for a duration) unless exactly one is given and it ends in the future."""
    now = now or deps.now()
    if (until is None) == (duration is None):
        raise InvalidField("until", "give exactly one: a time to pause until, or a duration to pause for")
    end = as_utc(until) if until is not None else _after(now, duration)
    if end <= now:
        raise InvalidField("until", "is in the past; a pause must end in the future")
    with deps.transaction() as session:
        _set_pause(session, team_id, end, now)
    return end


def _after(now: datetime, duration: timedelta | float | None) -> datetime:
    try:
        span = duration if isinstance(duration, timedelta) else timedelta(seconds=float(duration or 0))
        end = now + span
    except (OverflowError, ValueError) as exc:
        raise InvalidField("for", "is longer than a calendar can count; give a shorter duration") from exc
    if span <= timedelta(0):
        raise InvalidField("for", "must be a positive duration")
    return end


def resume_processing(deps: Deps, team_id: int, *, now: datetime | None = None) -> bool:
    """Group again now (held signals are grouped in arrival order); whether grouping was paused."""
    now = now or deps.now()
    with deps.transaction() as session:
        was_paused = paused_until(session, team_id, now) is not None
        _set_pause(session, team_id, None, now)
    return was_paused


def processing_paused_until(deps: Deps, team_id: int, *, now: datetime | None = None) -> datetime | None:
    """When the team's pause ends; None when grouping is not paused (an expired pause is none)."""
    with deps.read() as session:
        return paused_until(session, team_id, now or deps.now())


def _set_pause(session: Session, team_id: int, until: datetime | None, now: datetime) -> None:
    state = session.get(ProcessingState, team_id) or ProcessingState(team_id=team_id)
    state.paused_until, state.updated_at = until, now
    session.add(state)


def _judge(deps: Deps) -> Judge | None:
    """Asks the model "same root cause?" for gray-zone matches; None without a judge or a key."""
    settings = deps.settings
    if settings.grouping_judge == "none" or settings.gemini_api_key is None:
        return None
    gateway = deps.gemini()

    def ask(new: str, title: str | None, members: list[str]) -> tuple[bool, str]:
        return parse_judge(gateway.generate(judge_call(settings.signals_model, new, title, members)).text)

    return ask


def _group_batch(
    deps: Deps, team_id: int, embed: Embedder, judge: Judge | None, lock: Any, result: GroupResult
) -> bool:
    """Group the next batch; False when there is none, or processing is paused."""
    moment = deps.now()
    since = moment - timedelta(days=WINDOW_DAYS)
    with deps.read() as session:
        if paused_until(session, team_id, moment) is not None:
            result.paused = True
            return False
        waiting = [pending(signal) for signal in ungrouped(session, team_id, BATCH)]
        if not waiting:
            return False
        rows = pool_rows(session, team_id, embed.model, since)
    vectors = embed.embed([signal.description for signal in waiting])
    existing = np.stack([from_bytes(row.embedding) for row in rows]) if rows else None
    pool = Pool(embed.dimensions, existing, [row.report_id for row in rows])
    pool.score_batch(vectors)
    thresholds = thresholds_for(embed.model, deps.settings.grouping_thresholds)
    batch = Batch(deps, team_id, embed.model, pool, thresholds, judge, since, result)
    for row, (signal, vector) in enumerate(zip(waiting, vectors, strict=True)):
        lock.extend(GROUPING_LOCK_TTL_S, replace_ttl=True)
        assign(batch, signal, vector, deps.now(), row)
    return True
