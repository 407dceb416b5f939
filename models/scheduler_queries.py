"""Reads and conditional writes of the scheduler daemon (DESIGN §6). None of them commits.

Every write is conditional on what the scheduler read, so two schedulers that both think they
lead (a lock is not a fencing token) cannot both claim the same sweep slot, action occurrence or
reaped row: the second one's update matches nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Insert
from sqlalchemy.engine import Row
from sqlmodel import Session, col, func, or_, select, update

from models.actions import TriggerType, VisionAction
from models.base import table_of
from models.recordings import Recording
from models.vision import IN_FLIGHT_STATUSES, Observation, Scanner

# What the sweep needs of a recording: the watermark key, settling, and the query/eligibility metadata.
# More columns than sqlmodel's `select()` types (four), so statements over them are untyped: rows are `Row`s.
CANDIDATE_COLUMNS: tuple[Any, ...] = (
    Recording.session_id,
    Recording.end_time,
    Recording.last_ingested_at,
    Recording.duration_s,
    Recording.active_s,
    Recording.event_count,
    Recording.urls,
    Recording.console_error_count,
    Recording.device_type,
    Recording.distinct_id,
    Recording.custom_events,
)


def enabled_scanners(session: Session) -> Sequence[Scanner]:
    return session.exec(
        select(Scanner)
        .where(col(Scanner.enabled).is_(True), Scanner.sampling_rate > 0)
        .order_by(col(Scanner.id))
    ).all()


def _not_being_swept(now: datetime) -> Any:
    return or_(col(Scanner.sweeping_until).is_(None), col(Scanner.sweeping_until) < now)


def claim_sweep(session: Session, scanner_id: UUID, slot: int, now: datetime, until: datetime) -> bool:
    """Take this scanner's sweep slot and hold it until `until` (or `finish_sweep`); False when the
    slot (or a later one) was already taken, or another sweep of the scanner holds it: the slot is
    still due, and a later tick takes it."""
    statement = (
        update(Scanner)
        .where(
            col(Scanner.id) == scanner_id,
            or_(col(Scanner.sweep_slot).is_(None), col(Scanner.sweep_slot) < slot),
            _not_being_swept(now),
        )
        .values(sweep_slot=slot, last_sweep_at=now, sweeping_until=until)
    )
    return session.exec(statement).rowcount == 1


def claim_top_up(
    session: Session, scanner_id: UUID, now: datetime, until: datetime, backlog: Collection[str]
) -> bool:
    """Hold a backlogged scanner (its last sweep stopped for a reason in `backlog`) for a top-up until
    `until` (or `finish_sweep`); False when it is caught up, disabled, or another sweep holds it
    (another scheduler got there first)."""
    statement = (
        update(Scanner)
        .where(
            col(Scanner.id) == scanner_id,
            col(Scanner.enabled).is_(True),
            col(Scanner.sweep_stopped).in_(backlog),
            _not_being_swept(now),
        )
        .values(last_sweep_at=now, sweeping_until=until)
    )
    return session.exec(statement).rowcount == 1


def finish_sweep(
    session: Session,
    scanner_id: UUID,
    old: tuple[datetime | None, str],
    new: tuple[datetime, str],
    stopped: str,
) -> bool:
    """Record why the sweep stopped and release the scanner; move the watermark from `old` to `new`
    only if nobody moved it meanwhile (a rewind, say). Whether the watermark moved."""
    session.exec(
        update(Scanner)
        .where(col(Scanner.id) == scanner_id)
        .values(sweep_stopped=stopped, sweeping_until=None)
    )
    return new != old and advance_watermark(session, scanner_id, old, new)


def advance_watermark(
    session: Session, scanner_id: UUID, old: tuple[datetime | None, str], new: tuple[datetime, str]
) -> bool:
    """Move the watermark from `old` to `new`, only if nobody moved it meanwhile (a rewind, say)."""
    since, seen = old
    statement = (
        update(Scanner)
        .where(
            col(Scanner.id) == scanner_id,
            col(Scanner.last_swept_at).is_(None) if since is None else col(Scanner.last_swept_at) == since,
            col(Scanner.last_seen_session_id) == seen,
        )
        .values(last_swept_at=new[0], last_seen_session_id=new[1])
    )
    return session.exec(statement).rowcount == 1


def in_flight_by(session: Session, column: Any) -> dict[Any, int]:
    """Pending and running observations counted by `column` (`Observation.scanner_id` or `.team_id`):
    one read for every scanner the top-up stage looks at."""
    statement = (
        select(column, func.count())
        .select_from(Observation)
        .where(col(Observation.status).in_(IN_FLIGHT_STATUSES))
        .group_by(column)
    )
    return {key: count for key, count in session.exec(statement)}


def finished_since(session: Session, scanner_id: UUID, since: datetime) -> tuple[int, datetime | None]:
    """How many of a scanner's observations finished (any terminal status) since `since`, and when
    the first of them did (None when none did)."""
    count, first = session.exec(
        select(func.count(), func.min(Observation.completed_at)).where(
            Observation.scanner_id == scanner_id, col(Observation.completed_at) >= since
        )
    ).one()
    return count, first


def _after_watermark(team_id: int, after: tuple[datetime, str], cutoff: datetime) -> list[Any]:
    """Recordings of a team that settled after the watermark `after` and no later than `cutoff`.

    The order is `(last_ingested_at, session_id)`: when a recording settled, not when it ended, so
    an old session that arrives late is still ahead of every watermark. The tie on
    `last_ingested_at` is broken by `session_id`, so nothing is skipped or repeated.
    """
    since, seen = after
    return [
        Recording.team_id == team_id,
        Recording.last_ingested_at >= since,
        Recording.last_ingested_at <= cutoff,
        or_(Recording.last_ingested_at > since, Recording.session_id > seen),
    ]


def candidates_after(
    session: Session, team_id: int, after: tuple[datetime, str], cutoff: datetime, limit: int
) -> list[Row]:
    """Settled recordings after the watermark `after`, in watermark order, on the
    (team_id, last_ingested_at, session_id) index."""
    statement = (
        select(*CANDIDATE_COLUMNS)
        .where(*_after_watermark(team_id, after, cutoff))
        .order_by(Recording.last_ingested_at, Recording.session_id)
        .limit(limit)
    )
    return list(session.exec(statement))


def unswept_count(session: Session, team_id: int, after: tuple[datetime, str], cutoff: datetime) -> int:
    """How many settled recordings lie after a watermark (before query and sampling)."""
    return session.exec(
        select(func.count()).select_from(Recording).where(*_after_watermark(team_id, after, cutoff))
    ).one()


def settling_count(session: Session, team_id: int, cutoff: datetime) -> int:
    """How many recordings are still being ingested (their last batch is newer than `cutoff`)."""
    return session.exec(
        select(func.count())
        .select_from(Recording)
        .where(Recording.team_id == team_id, Recording.last_ingested_at > cutoff)
    ).one()


def insert_pending(session: Session, rows: list[dict[str, Any]]) -> list[UUID]:
    """Insert pending observations, skipping any (scanner, session) that already has one.

    One multi-row INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL both have it), then one
    read of which of our ids landed: a conflict (another scheduler, an on-demand request) skips
    that row and keeps the others. Returns the ids actually inserted, in `rows` order.
    """
    if not rows:
        return []
    statement = _insert_skipping_conflicts(session.get_bind().dialect.name)
    session.connection().execute(statement, rows)
    ids = [values["id"] for values in rows]
    landed = set(session.exec(select(Observation.id).where(col(Observation.id).in_(ids))))
    return [observation_id for observation_id in ids if observation_id in landed]


def _insert_skipping_conflicts(dialect: str) -> Insert:
    """INSERT INTO observations … ON CONFLICT (scanner_id, session_id) DO NOTHING, in `dialect`."""
    key = ["scanner_id", "session_id"]
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table_of(Observation)).on_conflict_do_nothing(index_elements=key)
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table_of(Observation)).on_conflict_do_nothing(index_elements=key)
    raise RuntimeError(f"no ON CONFLICT insert for {dialect}")  # pragma: no cover - we support the two above


# --- actions -------------------------------------------------------------------------------------


def unscheduled_actions(session: Session) -> Sequence[VisionAction]:
    """Enabled schedule actions that have no next run yet (new, or re-enabled)."""
    return session.exec(
        select(VisionAction).where(
            col(VisionAction.enabled).is_(True),
            VisionAction.trigger_type == TriggerType.SCHEDULE,
            col(VisionAction.next_run_at).is_(None),
        )
    ).all()


def due_actions(session: Session, now: datetime) -> Sequence[VisionAction]:
    return session.exec(
        select(VisionAction)
        .where(
            col(VisionAction.enabled).is_(True),
            VisionAction.trigger_type == TriggerType.SCHEDULE,
            col(VisionAction.next_run_at) <= now,
        )
        .order_by(col(VisionAction.next_run_at))
    ).all()


def set_next_run(
    session: Session,
    action_id: UUID,
    old: datetime | None,
    new: datetime | None,
    last_run_at: datetime | None = None,
) -> bool:
    """Move `next_run_at` from `old` to `new` if nobody else did: the claim of one occurrence."""
    values: dict[str, Any] = {"next_run_at": new}
    if last_run_at is not None:
        values["last_run_at"] = last_run_at
    statement = (
        update(VisionAction)
        .where(
            col(VisionAction.id) == action_id,
            col(VisionAction.next_run_at).is_(None) if old is None else col(VisionAction.next_run_at) == old,
        )
        .values(**values)
    )
    return session.exec(statement).rowcount == 1


# --- estimates -----------------------------------------------------------------------------------


def data_span(session: Session, team_id: int) -> tuple[datetime | None, datetime | None]:
    """The earliest and latest `end_time` of a team's recordings."""
    first, last = session.exec(
        select(func.min(Recording.end_time), func.max(Recording.end_time)).where(Recording.team_id == team_id)
    ).one()
    return first, last


def recordings_between(
    session: Session, team_id: int, since: datetime, until: datetime, where: Sequence[Any] = ()
) -> Iterator[Row]:
    """Candidate columns of a team's recordings ending in [since, until], streamed, with extra filters."""
    statement = (
        select(*CANDIDATE_COLUMNS)
        .where(Recording.team_id == team_id, Recording.end_time >= since, Recording.end_time <= until, *where)
        .execution_options(yield_per=2000)
    )
    yield from session.exec(statement)


def estimate_filters(
    query: dict[str, Any], *, min_duration_s: float, min_active_s: float, max_active_s: float
) -> list[Any]:
    """The numeric parts of a scanner query and of eligibility, as SQL conditions on `Recording`.

    The thresholds are eligibility's (`pipeline.limits`); URL and event filters are left to the caller.
    """
    filters = [
        Recording.event_count > 0,
        Recording.duration_s >= max(min_duration_s, query.get("min_duration_s", 0)),
        Recording.active_s >= max(min_active_s, query.get("min_active_s", 0)),
        Recording.active_s <= max_active_s,
    ]
    if "has_console_errors" in query:
        errors = Recording.console_error_count
        filters.append(errors > 0 if query["has_console_errors"] else errors == 0)
    if "device_type" in query:
        filters.append(Recording.device_type == query["device_type"])
    if "distinct_ids" in query:
        filters.append(col(Recording.distinct_id).in_(query["distinct_ids"]))
    return filters


def stale_estimates(session: Session, before: datetime, limit: int) -> Sequence[Scanner]:
    return session.exec(
        select(Scanner)
        .where(
            col(Scanner.enabled).is_(True),
            or_(col(Scanner.estimated_at).is_(None), col(Scanner.estimated_at) < before),
        )
        .order_by(col(Scanner.estimated_at).nulls_first())
        .limit(limit)
    ).all()
