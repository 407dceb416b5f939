"""Queries of the translation cache; they never commit."""

from __future__ import annotations

from sqlmodel import Session, select

from models.translations import Translation


def cached_translation(session: Session, team_id: int, text_sha256: str, language: str) -> Translation | None:
    """The team's translation of the text with this digest into `language`, if one was made."""
    query = select(Translation).where(
        Translation.team_id == team_id,
        Translation.text_sha256 == text_sha256,
        Translation.target_language == language,
    )
    return session.exec(query).first()
