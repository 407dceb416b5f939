"""Reads and conditional writes for observations, usage and scanners. None of them commits."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy import BindParameter, Insert, Update, bindparam, case, insert
from sqlalchemy.orm import configure_mappers
from sqlmodel import Session, col, func, or_, select, update

from models.base import table_of, utcnow
from models.recordings import Recording
from models.signals import Signal
from models.tenancy import Team
from models.vision import IN_FLIGHT_STATUSES, Observation, ObservationStatus, Scanner, UsageReceipt


def in_flight(session: Session, *, scanner_id: UUID | None = None, team_id: int | None = None) -> int:
    statement = (
        select(func.count()).select_from(Observation).where(col(Observation.status).in_(IN_FLIGHT_STATUSES))
    )
    if scanner_id is not None:
        statement = statement.where(Observation.scanner_id == scanner_id)
    if team_id is not None:
        statement = statement.where(Observation.team_id == team_id)
    return session.exec(statement).one()


def _in_flight_snapshots(
    session: Session, team_ids: Sequence[int | None] | None, scanner_id: UUID | None
) -> list[dict[str, Any]]:
    statement = select(col(Observation.scanner_snapshot)).where(
        col(Observation.status).in_(IN_FLIGHT_STATUSES)
    )
    if team_ids is not None:
        statement = statement.where(col(Observation.team_id).in_(team_ids))
    if scanner_id is not None:
        statement = statement.where(Observation.scanner_id == scanner_id)
    return [snapshot or {} for snapshot in session.exec(statement)]


def organization_usage(session: Session, organization_id: UUID, since: datetime, price: Any) -> int:
    """Receipt credits since `since`, plus in-flight reservations at `price(snapshot)`, organisation-wide."""
    receipts = session.exec(
        select(func.coalesce(func.sum(UsageReceipt.credits), 0)).where(
            UsageReceipt.organization_id == organization_id, UsageReceipt.observation_created_at >= since
        )
    ).one()
    team_ids = list(session.exec(select(Team.id).where(Team.organization_id == organization_id)))
    return int(receipts) + sum(price(snapshot) for snapshot in _in_flight_snapshots(session, team_ids, None))


def scanner_usage(session: Session, scanner_id: UUID, since: datetime, price: Any) -> int:
    receipts = session.exec(
        select(func.coalesce(func.sum(UsageReceipt.credits), 0)).where(
            UsageReceipt.scanner_id == scanner_id, UsageReceipt.observation_created_at >= since
        )
    ).one()
    return int(receipts) + sum(
        price(snapshot) for snapshot in _in_flight_snapshots(session, None, scanner_id)
    )


def team_usage_by_scanner(session: Session, team_id: int, since: datetime, price: Any) -> dict[UUID, int]:
    """`scanner_usage` of every scanner of the team at once (two queries, not two per scanner)."""
    used: dict[UUID, int] = {}
    receipts = (
        select(UsageReceipt.scanner_id, func.sum(UsageReceipt.credits))
        .where(UsageReceipt.team_id == team_id, UsageReceipt.observation_created_at >= since)
        .group_by(col(UsageReceipt.scanner_id))
    )
    for scanner_id, credits in session.exec(receipts):
        used[scanner_id] = int(credits or 0)
    in_flight = select(Observation.scanner_id, col(Observation.scanner_snapshot)).where(
        Observation.team_id == team_id, col(Observation.status).in_(IN_FLIGHT_STATUSES)
    )
    for scanner_id, snapshot in session.exec(in_flight):
        used[scanner_id] = used.get(scanner_id, 0) + price(snapshot or {})
    return used


def observed_sessions(session: Session, scanner_id: UUID, session_ids: Iterable[str]) -> set[str]:
    """Which of `session_ids` already have an observation by this scanner (any status)."""
    wanted = list(session_ids)
    statement = select(Observation.session_id).where(
        Observation.scanner_id == scanner_id, col(Observation.session_id).in_(wanted)
    )
    return set(session.exec(statement))


def find_scanner(session: Session, team_id: int, ref: str) -> Scanner | None:
    """A team's scanner by name, or by id."""
    scanner = scanner_named(session, team_id, ref)
    if scanner is None:
        try:
            scanner = session.get(Scanner, UUID(ref))
        except ValueError:
            return None
    return scanner if scanner is not None and scanner.team_id == team_id else None


def scanner_named(session: Session, team_id: int, name: str) -> Scanner | None:
    return session.exec(select(Scanner).where(Scanner.team_id == team_id, Scanner.name == name)).first()


@dataclass(frozen=True)
class ScannerFilters:
    """The filters of the scanner list (the reference's query parameters); None means any."""

    scanner_type: str | None = None
    enabled: bool | None = None
    emits_signals: bool | None = None
    created_by: int | None = None
    search: str | None = None


SCANNER_ORDERS = (
    *("created_at", "created_by", "enabled", "name"),
    *("sampling_rate", "scanner_type", "updated_at"),
)


def filtered_scanners(
    session: Session, team_id: int, filters: ScannerFilters, order_by: str, limit: int, offset: int
) -> tuple[int, Sequence[Scanner]]:
    """(how many match, one page of them) ordered by `order_by` (a SCANNER_ORDERS name, `-` descending)."""
    where = [col(Scanner.team_id) == team_id]
    if filters.scanner_type is not None:
        where.append(col(Scanner.scanner_type) == filters.scanner_type)
    for name in ("enabled", "emits_signals", "created_by"):
        value = getattr(filters, name)
        if value is not None:
            where.append(col(getattr(Scanner, name)) == value)
    if filters.search:
        pattern = f"%{filters.search.lower()}%"
        named = func.lower(Scanner.name).like(pattern)
        where.append(or_(named, func.lower(Scanner.description).like(pattern)))
    count = session.exec(select(func.count()).select_from(Scanner).where(*where)).one()
    column = col(getattr(Scanner, order_by.lstrip("-")))
    ordered = (column.desc() if order_by.startswith("-") else column.asc(), col(Scanner.id))
    rows = session.exec(select(Scanner).where(*where).order_by(*ordered).offset(offset).limit(limit)).all()
    return count, rows


def team_scanners(session: Session, team_id: int) -> Sequence[Scanner]:
    """A team's scanners by name."""
    return session.exec(select(Scanner).where(Scanner.team_id == team_id).order_by(Scanner.name)).all()


def has_observations(session: Session, scanner_id: UUID) -> bool:
    statement = select(Observation.id).where(Observation.scanner_id == scanner_id).limit(1)
    return session.exec(statement).first() is not None


def list_observations(
    session: Session,
    team_id: int,
    *,
    scanner_id: UUID | None,
    status: str | None,
    limit: int,
    verdict: str | None = None,
) -> Sequence[Observation]:
    """A team's observations, newest first, optionally of one scanner, in one status, with one verdict."""
    statement = select(Observation).where(Observation.team_id == team_id)
    if scanner_id is not None:
        statement = statement.where(Observation.scanner_id == scanner_id)
    if status:
        statement = statement.where(Observation.status == status)
    if verdict:
        statement = statement.where(Observation.result_verdict == verdict)
    return session.exec(statement.order_by(col(Observation.created_at).desc()).limit(limit)).all()


def observations_by_id(session: Session, ids: Iterable[UUID]) -> Sequence[Observation]:
    return session.exec(select(Observation).where(col(Observation.id).in_(list(ids)))).all()


def observation_ids_starting(session: Session, team_id: int, prefix: str) -> list[UUID]:
    """The team's observation ids whose text form starts with `prefix` (lower case)."""
    ids = session.exec(select(Observation.id).where(Observation.team_id == team_id))
    return [observation_id for observation_id in ids if str(observation_id).startswith(prefix)]


def add_new_signals(session: Session, team_id: int, rows: list[dict[str, Any]]) -> None:
    """Insert the signals whose source_id the team does not have yet (emitting twice is a no-op)."""
    if not rows:
        return
    ids = [row["source_id"] for row in rows]
    existing = set(
        session.exec(
            select(Signal.source_id).where(Signal.team_id == team_id, col(Signal.source_id).in_(ids))
        )
    )
    session.add_all(Signal(team_id=team_id, **row) for row in rows if row["source_id"] not in existing)


_OBSERVATIONS = table_of(Observation)


@lru_cache(maxsize=32)
def _status_update(columns: tuple[str, ...], fenced: bool) -> Update:
    """The conditional UPDATE setting `columns`, built once per column set.

    A Core statement on the table, reused: building the expression and the ORM's bulk-update
    bookkeeping cost several times what SQLite takes to run it, on every observation. `fenced`
    adds the attempt number to the condition.
    """
    table = _OBSERVATIONS
    statuses: BindParameter[list[str]] = bindparam("where_status", expanding=True)
    statement = update(table).where(table.c.id == bindparam("where_id"), table.c.status.in_(statuses))
    if fenced:
        statement = statement.where(table.c.attempts == bindparam("where_attempt"))
    return statement.values(
        {column: bindparam(f"set_{column}", type_=table.c[column].type) for column in columns}
    )


def _claim_statement(many: bool = False) -> Update:
    """pending → running, or running with a lapsed lease and takeovers left → running again; the
    attempt counted (a takeover too), the new lease set, the row returned. SET reads the old values.
    `many`: the rows whose ids are in the expanding `where_ids`, instead of the one `where_id`."""
    table = _OBSERVATIONS
    now = bindparam("now", type_=table.c.lease_until.type)
    running = table.c.status == ObservationStatus.RUNNING
    lapsed = running & (table.c.lease_until < now) & (table.c.takeovers < bindparam("max_takeovers"))
    ids = (
        table.c.id.in_(bindparam("where_ids", expanding=True))
        if many
        else table.c.id == bindparam("where_id")
    )
    return (
        update(table)
        .where(ids, (table.c.status == ObservationStatus.PENDING) | lapsed)
        .values(
            status=ObservationStatus.RUNNING,
            attempts=table.c.attempts + 1,
            takeovers=table.c.takeovers + case((running, 1), else_=0),
            lease_until=bindparam("lease_until", type_=table.c.lease_until.type),
            started_at=now,
            next_attempt_at=None,
        )
        .returning(*table.c)
    )


_CLAIM = _claim_statement()
_CLAIM_MANY = _claim_statement(many=True)


def claim(
    session: Session, observation_id: UUID, now: datetime, lease_until: datetime, max_takeovers: int
) -> Observation | None:
    """Take the observation for one attempt, leased until `lease_until`: a pending row, or a running
    one whose lease lapsed before `now` (its worker stopped) and that was taken over fewer than
    `max_takeovers` times. The claimed row, detached from `session`, or None when another worker
    holds it, it finished, or it has no takeovers left. Its `attempts` fences the attempt's writes.
    """
    parameters = {
        "where_id": observation_id,
        "now": now,
        "lease_until": lease_until,
        "max_takeovers": max_takeovers,
    }
    row = session.connection().execute(_CLAIM, parameters).first()
    return None if row is None else _detached(Observation, row)


Model = TypeVar("Model", Observation, Recording)
_RECORDINGS = table_of(Recording)
_RECORDING_OF = sa.select(_RECORDINGS).where(
    _RECORDINGS.c.team_id == bindparam("team_id"), _RECORDINGS.c.session_id == bindparam("session_id")
)


def claim_with_recording(
    session: Session, observation_id: UUID, now: datetime, lease_until: datetime, max_takeovers: int
) -> tuple[Observation, Recording | None] | None:
    """`claim`, and the recording the observation looks at (None when it has none) read on the same
    connection in the same transaction: an attempt needs both, and a session of its own for the
    read cost more than the read."""
    observation = claim(session, observation_id, now, lease_until, max_takeovers)
    if observation is None:
        return None
    where = {"team_id": observation.team_id, "session_id": observation.session_id}
    row = session.connection().execute(_RECORDING_OF, where).first()
    return observation, None if row is None else _detached(Recording, row)


def claim_many_with_recordings(
    session: Session,
    observation_ids: Sequence[UUID],
    now: datetime,
    lease_until: datetime,
    max_takeovers: int,
) -> list[tuple[Observation, Recording | None]]:
    """`claim_with_recording` for several observations in two statements: the ones claimed (in no
    particular order), each with its recording (None when the session has none)."""
    parameters = {
        "where_ids": list(observation_ids),
        "now": now,
        "lease_until": lease_until,
        "max_takeovers": max_takeovers,
    }
    claimed = [_detached(Observation, row) for row in session.connection().execute(_CLAIM_MANY, parameters)]
    if not claimed:
        return []
    table = _RECORDINGS
    wanted = {(each.team_id, each.session_id) for each in claimed}
    statement = sa.select(table).where(sa.tuple_(table.c.team_id, table.c.session_id).in_(list(wanted)))
    found = {
        (row.team_id, row.session_id): _detached(Recording, row)
        for row in session.connection().execute(statement)
    }
    return [(each, found.get((each.team_id, each.session_id))) for each in claimed]


def _detached(model: type[Model], row: sa.Row) -> Model:
    """A model built from a row of its own table: the columns' types already made every value, so
    it is constructed without validating it again (8 times cheaper, on every observation). The
    mappers must be configured first (a no-op once they are): a fresh worker's first claim may
    come before any query did it, and an unconfigured model's attributes cannot be read."""
    configure_mappers()
    return model.model_construct(**row._mapping)


def move_status(
    session: Session,
    observation_id: UUID,
    source: Sequence[ObservationStatus],
    *,
    attempt: int | None = None,
    **values: Any,
) -> bool:
    """Set `values` on the observation if its status is one of `source` (and, given `attempt`, if
    that attempt still holds it); True when a row changed.

    A Core UPDATE: an `Observation` already loaded in `session` does not see the new values.
    """
    statement = _status_update(tuple(values), attempt is not None)
    parameters = {f"set_{column}": value for column, value in values.items()}
    parameters.update(where_id=observation_id, where_status=list(source))
    if attempt is not None:
        parameters["where_attempt"] = attempt
    return session.connection().execute(statement, parameters).rowcount == 1


def renew_lease(session: Session, observation_id: UUID, attempt: int, lease_until: datetime) -> bool:
    """Extend a running attempt's lease; False when the attempt no longer holds the row."""
    return move_status(
        session, observation_id, [ObservationStatus.RUNNING], attempt=attempt, lease_until=lease_until
    )


def renew_leases(session: Session, held: Sequence[tuple[UUID, int]], lease_until: datetime) -> set[UUID]:
    """Extend the leases of the running attempts `held` ((observation id, attempt) pairs) in one
    UPDATE; the ids whose attempt still holds its row (the others were taken over, or finished)."""
    if not held:
        return set()
    table = _OBSERVATIONS
    statement = (
        update(table)
        .where(table.c.status == ObservationStatus.RUNNING, sa.tuple_(table.c.id, table.c.attempts).in_(held))
        .values(lease_until=lease_until)
        .returning(table.c.id)
    )
    return set(session.connection().execute(statement).scalars())


def _receipt_insert() -> Insert:
    """INSERT … SELECT: the organisation comes from the team in the same statement, not a lookup first."""
    receipts, teams = table_of(UsageReceipt), table_of(Team)
    columns = [column.name for column in receipts.c if column.name != "organization_id"]
    values = [bindparam(name, type_=receipts.c[name].type) for name in columns]
    source = sa.select(*values, teams.c.organization_id).where(teams.c.id == bindparam("team_id"))
    # RETURNING tells whether a row went in: psycopg reports rowcount -1 for INSERT … SELECT.
    return insert(receipts).from_select([*columns, "organization_id"], source).returning(receipts.c.id)


_RECEIPT_INSERT = _receipt_insert()


def insert_receipt(session: Session, **values: Any) -> None:
    """Insert an observation's `UsageReceipt`, billed to its team's organisation; the caller commits.

    `id` and `created_at` are generated here when not given. Raises `LookupError` when the team
    does not exist.
    """
    row = {"id": uuid4(), "created_at": utcnow(), **values}
    if session.connection().execute(_RECEIPT_INSERT, row).first() is None:
        raise LookupError(f"team {values['team_id']} does not exist")
