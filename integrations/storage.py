"""The database of this process: one engine and session factory per URL, built from settings."""

from __future__ import annotations

import threading
from dataclasses import dataclass

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


_DATABASES: dict[str, Database] = {}
_LOCK = threading.Lock()


def _database(url: str) -> Database:
    with _LOCK:
        found = _DATABASES.get(url)
        if found is None:
            engine = make_engine(url)
            found = _DATABASES[url] = Database(url, engine, session_factory(engine))
        return found


def forget_databases() -> None:
    """Close every pooled connection of every database this process opened, and forget them: a
    process that moves between databases (the tests: one each) would otherwise keep each one's
    connections open until the server refuses more."""
    with _LOCK:
        found = list(_DATABASES.values())
        _DATABASES.clear()
    for each in found:
        each.engine.dispose()


def database(settings: Settings) -> Database:
    """The process-wide `Database` for the configured URL (SQLite in SIGHTLINE_HOME by default)."""
    return _database(settings.resolved_database_url)
