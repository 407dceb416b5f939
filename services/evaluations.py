"""Evaluations: create, change, soft-delete and read them back (`evaluations` of the reference).

A definition is checked by `pipeline.evaluations`. A new evaluation, or one enabled again, starts
its automatic watermark at now: it evaluates observations completed from then on, never the past
(an evaluation run does that, `services.evaluation_runs.start_run`). Each use case writes in one
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlmodel import Session

from models import as_utc
from models.evaluation_queries import (
    EvaluationFilters,
    evaluation_named,
    filtered_evaluations,
    live_evaluation,
)
from models.evaluations import Evaluation
from pipeline.errors import NotFoundError
from pipeline.evaluations import validate_evaluation
from services.context import Deps

EDITABLE = (
    "name",
    "description",
    "enabled",
    "evaluation_type",
    "evaluation_config",
    "output_type",
    "output_config",
    "conditions",
    "deleted",
)


@dataclass(frozen=True)
class EvaluationView:
    """An evaluation as plain values."""

    id: UUID
    team_id: int
    definition: dict[str, Any]
    created_by: int | None
    created_at: datetime | None
    updated_at: datetime | None
    evaluated_until: datetime | None


def definition(row: Evaluation) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in EDITABLE}
    values["evaluation_type"], values["output_type"] = str(row.evaluation_type), str(row.output_type)
    return values


def view(row: Evaluation) -> EvaluationView:
    return EvaluationView(
        row.id,
        row.team_id,
        definition(row),
        row.created_by,
        as_utc(row.created_at),
        as_utc(row.updated_at),
        as_utc(row.evaluated_until),
    )


def evaluation_page(
    deps: Deps, team_id: int, filters: EvaluationFilters, order_by: str, limit: int, offset: int
) -> tuple[int, list[EvaluationView]]:
    """One page of the team's live evaluations matching `filters`, in `order_by` (`-name`, …)."""
    with deps.read() as session:
        count, rows = filtered_evaluations(session, team_id, filters, order_by, limit, offset)
        return count, [view(row) for row in rows]


def evaluation(deps: Deps, team_id: int, ref: str) -> EvaluationView:
    """One live evaluation by id or name; `NotFoundError` otherwise (another team's, deleted, unknown)."""
    with deps.read() as session:
        return view(load_evaluation(session, team_id, ref))


def create_evaluation(
    deps: Deps, team_id: int, data: dict[str, Any], *, user_id: int | None = None, now: datetime | None = None
) -> EvaluationView:
    """A new evaluation; `InvalidField` for a bad definition."""
    values = validate_evaluation(data)
    now = now or deps.now()
    with deps.transaction() as session:
        row = Evaluation(team_id=team_id, created_by=user_id, created_at=now, updated_at=now, **values)
        row.evaluated_until = now
        session.add(row)
        session.flush()
        return view(row)


def update_evaluation(
    deps: Deps, team_id: int, ref: str, changes: dict[str, Any], *, now: datetime | None = None
) -> EvaluationView:
    """Apply `changes` (a partial definition; `deleted: true` is the delete). Raises `NotFoundError`,
    or `InvalidField` for a bad value."""
    now = now or deps.now()
    with deps.transaction() as session:
        row = load_evaluation(session, team_id, ref)
        current = definition(row)
        proposed = validate_evaluation({**current, **changes})
        changed = [name for name in EDITABLE if proposed[name] != current[name]]
        for name in changed:
            setattr(row, name, proposed[name])
        if "enabled" in changed and proposed["enabled"]:
            row.evaluated_until, row.last_observation_id = now, None
        if changed:
            row.updated_at = now
            session.add(row)
        session.flush()
        return view(row)


def load_evaluation(session: Session, team_id: int, ref: str) -> Evaluation:
    """A team's live evaluation by id or name."""
    try:
        row = live_evaluation(session, team_id, UUID(str(ref)))
    except ValueError:
        row = evaluation_named(session, team_id, str(ref))
    if row is None:
        raise NotFoundError(f"no evaluation {ref!r} in team {team_id}; see `sightline evaluations list`")
    return row
