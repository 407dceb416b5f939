"""The database of this process: one engine and session factory per URL, built from settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Engine

from models.db import SessionFactory, make_engine, session_factory
from models.revisions import current_revision, head_revision
from pipeline.errors import ConfigurationError
from settings import Settings


@dataclass(frozen=True)
class Database:
    url: str
    engine: Engine
    sessions: SessionFactory

    def require_migrated(self) -> None:
        """Raise `ConfigurationError` unless the schema is at the newest migration."""
        current = current_revision(self.engine)
        if current is None:
            raise ConfigurationError("the database has no tables yet; run `sightline init` first")
        if current != head_revision():
            raise ConfigurationError(
                f"the database is at migration {current}, not {head_revision()}; "
                "run `sightline init` to upgrade"
            )


@lru_cache(maxsize=8)
def _database(url: str) -> Database:
    engine = make_engine(url)
    return Database(url, engine, session_factory(engine))


def database(settings: Settings) -> Database:
    """The process-wide `Database` for the configured URL (SQLite in SIGHTLINE_HOME by default)."""
    return _database(settings.resolved_database_url)
