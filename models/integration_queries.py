"""Reads for integrations and the secrets stored across tables. None of them commits."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlmodel import Session, col, select

from models.actions import VisionAction
from models.signals import ReportStatus, SignalReport
from models.sources import RecordingSource
from models.tenancy import Integration


def integration_named(session: Session, team_id: int, name: str) -> Integration | None:
    return session.exec(
        select(Integration).where(Integration.team_id == team_id, Integration.name == name)
    ).first()


def actions_targeting(session: Session, team_id: int, integration_id: UUID) -> list[VisionAction]:
    """The team's actions with a `slack` target through the integration, by name."""
    rows = session.exec(
        select(VisionAction).where(VisionAction.team_id == team_id).order_by(col(VisionAction.name))
    ).all()
    wanted = str(integration_id)
    return [
        row
        for row in rows
        if any(str(target.get("integration_id")) == wanted for target in row.delivery_config or [])
    ]


def uncarded_ready_reports(session: Session, team_id: int, limit: int) -> Sequence[SignalReport]:
    """Ready reports that never got their Slack card, heaviest first."""
    statement = (
        select(SignalReport)
        .where(
            SignalReport.team_id == team_id,
            SignalReport.status == ReportStatus.READY,
            col(SignalReport.notified_at).is_(None),
        )
        .order_by(col(SignalReport.total_weight).desc(), col(SignalReport.id))
        .limit(limit)
    )
    return session.exec(statement).all()


def rows_with_secrets(
    session: Session,
) -> tuple[Sequence[Integration], Sequence[VisionAction], Sequence[RecordingSource]]:
    """Every row holding an encrypted secret, locked for update (for re-encryption)."""
    return (
        session.exec(select(Integration).where(Integration.bot_token != "").with_for_update()).all(),
        session.exec(select(VisionAction).with_for_update()).all(),
        session.exec(select(RecordingSource).with_for_update()).all(),
    )
