"""Reads of the prompt library (`models.prompts`). None of them commits: the caller owns the transaction."""

from collections.abc import Sequence
from uuid import UUID

from sqlmodel import Session, col, func, select

from models.actions import VisionAction
from models.prompts import LlmPrompt, LlmPromptVersion
from models.vision import Scanner


def live_prompt_named(session: Session, team_id: int, name: str) -> LlmPrompt | None:
    """The team's prompt called `name` that is not deleted (there is at most one)."""
    statement = select(LlmPrompt).where(
        LlmPrompt.team_id == team_id, LlmPrompt.name == name, col(LlmPrompt.deleted).is_(False)
    )
    return session.exec(statement).first()


def team_prompt(session: Session, team_id: int, prompt_id: UUID) -> LlmPrompt | None:
    """The team's prompt with this id, deleted or not; None for another team's."""
    found = session.get(LlmPrompt, prompt_id)
    return found if found is not None and found.team_id == team_id else None


def prompt_version(session: Session, prompt_id: UUID, version: int) -> LlmPromptVersion | None:
    statement = select(LlmPromptVersion).where(
        LlmPromptVersion.prompt_id == prompt_id, LlmPromptVersion.version == version
    )
    return session.exec(statement).first()


def prompt_versions(session: Session, prompt_id: UUID) -> Sequence[LlmPromptVersion]:
    """Every version of a prompt, newest first."""
    statement = select(LlmPromptVersion).where(LlmPromptVersion.prompt_id == prompt_id)
    return session.exec(statement.order_by(col(LlmPromptVersion.version).desc())).all()


def prompt_page(
    session: Session, team_id: int, *, deleted: bool, limit: int | None, offset: int
) -> tuple[int, Sequence[LlmPrompt]]:
    """(how many, one page of) the team's live prompts (or, with `deleted`, its deleted ones) by name."""
    where = (col(LlmPrompt.team_id) == team_id, col(LlmPrompt.deleted).is_(deleted))
    count = session.exec(select(func.count()).select_from(LlmPrompt).where(*where)).one()
    statement = select(LlmPrompt).where(*where).order_by(col(LlmPrompt.name), col(LlmPrompt.id))
    rows = session.exec(statement.offset(offset).limit(limit)).all()
    return count, rows


def scanners_and_actions(session: Session, team_id: int) -> tuple[Sequence[Scanner], Sequence[VisionAction]]:
    """The team's scanners and actions, by name: where prompt references live (in their JSON configs)."""
    scanners = session.exec(select(Scanner).where(Scanner.team_id == team_id).order_by(Scanner.name)).all()
    statement = select(VisionAction).where(VisionAction.team_id == team_id).order_by(VisionAction.name)
    return scanners, session.exec(statement).all()
