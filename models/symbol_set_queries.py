"""Reading symbol sets: by id, by ref, the finished ones for a set of refs, a page of a team's. Nothing
here commits."""

from collections.abc import Collection, Sequence
from uuid import UUID

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.symbol_sets import SymbolSet


def symbol_set(session: Session, team_id: int, symbol_set_id: UUID) -> SymbolSet | None:
    found = session.get(SymbolSet, symbol_set_id)
    return found if found is not None and found.team_id == team_id else None


def symbol_sets_by_ref(session: Session, team_id: int, refs: Collection[str]) -> list[SymbolSet]:
    """The team's sets named by `refs`, finished or not."""
    if not refs:
        return []
    query = select(SymbolSet).where(SymbolSet.team_id == team_id, col(SymbolSet.ref).in_(list(refs)))
    return list(session.exec(query))


def symbol_sets_by_id(session: Session, team_id: int, ids: Collection[UUID]) -> list[SymbolSet]:
    if not ids:
        return []
    query = select(SymbolSet).where(SymbolSet.team_id == team_id, col(SymbolSet.id).in_(list(ids)))
    return list(session.exec(query))


def has_finished_sets(session: Session, team_id: int) -> bool:
    """Whether the team has any source map in use (its upload finished)."""
    query = select(SymbolSet.id).where(SymbolSet.team_id == team_id, col(SymbolSet.content_hash).is_not(None))
    return session.exec(query.limit(1)).first() is not None


def team_symbol_sets(
    session: Session, team_id: int, limit: int, offset: int
) -> tuple[int, Sequence[SymbolSet]]:
    """How many sets the team has, and one page of them, newest first (then by id, so pages are stable)."""
    count = session.exec(
        select(func.count()).select_from(SymbolSet).where(SymbolSet.team_id == team_id)
    ).one()
    query = (
        select(SymbolSet)
        .where(SymbolSet.team_id == team_id)
        .order_by(col(SymbolSet.created_at).desc(), col(SymbolSet.id))
        .limit(limit)
        .offset(offset)
    )
    return count, session.exec(query).all()
