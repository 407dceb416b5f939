"""Report artefacts (DESIGN §7): list, read, append, edit and delete them, and a commit's diff.

Artefacts are validated per type (`pipeline.artefacts`); status types are latest-wins, so deleting
the newest makes the previous one the report's value again (every write refreshes the columns the
inbox sorts by: `services.reports.refresh_inbox_columns`). An artefact is found only through a
report of the caller's team that is not deleted (or, from the CLI, by its id within the team).
"""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

from sqlmodel import Session

from models import ReportArtefact
from models.signal_queries import artefact_window
from pipeline.artefacts import diff_source, validate_artefact
from pipeline.errors import NotFoundError
from services.context import Deps
from services.reports import as_uuid, find_report, load_report, refresh_inbox_columns


def artefacts(
    deps: Deps, team_id: int, report_id: str, *, limit: int | None = None, offset: int = 0
) -> tuple[int, list[ReportArtefact]]:
    """(how many, one page of) a report's artefacts, oldest first; `NotFoundError`."""
    with deps.read() as session:
        count, rows = artefact_window(session, load_report(session, team_id, report_id).id, limit, offset)
        return count, list(rows)


def artefact(deps: Deps, team_id: int, report_id: str, artefact_id: str) -> ReportArtefact:
    """One artefact of a report; `NotFoundError`."""
    with deps.read() as session:
        return _find_artefact(session, team_id, artefact_id, report_id)


def add_artefact(
    deps: Deps,
    team_id: int,
    report_id: str,
    kind: str,
    content: object,
    *,
    now: datetime | None = None,
    user_id: int | None = None,
) -> ReportArtefact:
    """Append an artefact, validated against its type. Raises `NotFoundError` or `InvalidField`."""
    with deps.transaction() as session:
        found = load_report(session, team_id, report_id)
        content = validate_artefact(kind, content)
        row = ReportArtefact(
            team_id=team_id,
            report_id=found.id,
            type=kind,
            content=content,
            created_by=user_id,
            created_at=now or deps.now(),
        )
        session.add(row)
        refresh_inbox_columns(session, found.id)
    return row


def edit_artefact(
    deps: Deps,
    team_id: int,
    artefact_id: str,
    content: object,
    *,
    report_id: str | None = None,
    now: datetime | None = None,
) -> ReportArtefact:
    """Replace an artefact's content (of `report_id`'s, when given), validated against its type.
    Raises `NotFoundError` or `InvalidField`."""
    with deps.transaction() as session:
        row = _find_artefact(session, team_id, artefact_id, report_id)
        row.content = validate_artefact(row.type, content)
        row.updated_at = now or deps.now()
        session.add(row)
        refresh_inbox_columns(session, row.report_id)
    return row


def delete_artefact(deps: Deps, team_id: int, artefact_id: str, *, report_id: str | None = None) -> str:
    """Delete an artefact (of `report_id`'s, when given); its type. Raises `NotFoundError`."""
    with deps.transaction() as session:
        row = _find_artefact(session, team_id, artefact_id, report_id)
        parent, kind = row.report_id, row.type
        session.delete(row)
        refresh_inbox_columns(session, parent)
        return kind


def artefact_diff(deps: Deps, team_id: int, report_id: str, artefact_id: str) -> NoReturn:
    """A commit artefact's branch diff. Sightline has no GitHub integration, so there is never one:
    `InvalidField` when the artefact is not a commit or misses its repository or branch, else
    `NotFoundError` (no integration can access the repository)."""
    row = artefact(deps, team_id, report_id, artefact_id)
    repository, _ = diff_source(row.type, row.content or {})
    raise NotFoundError(f"no GitHub integration can access the repository {repository}")


def _find_artefact(
    session: Session, team_id: int, artefact_id: str, report_id: str | None = None
) -> ReportArtefact:
    key = as_uuid(artefact_id)
    row = session.get(ReportArtefact, key) if key else None
    if row is not None and report_id is not None:
        parent = find_report(session, team_id, report_id)
        row = row if parent is not None and parent.id == row.report_id else None
    if row is None or row.team_id != team_id:
        raise NotFoundError(f"no artefact {artefact_id} in team {team_id}")
    return row
