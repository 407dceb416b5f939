"""The engine and session factory: SQLite (WAL, foreign keys on) by default, PostgreSQL via psycopg."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

SQLITE_TIMEOUT_S = 30

SessionFactory = Callable[[], Session]


def make_engine(url: str) -> Engine:
    """An engine for `url`; `postgresql://` and `postgres://` URLs are given the psycopg 3 driver.

    A SQLite file's parent folder is created. Raises `sqlalchemy.exc.ArgumentError` for a URL
    that cannot be parsed.
    """
    parsed = _with_driver(make_url(url))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True)


def _with_driver(url: URL) -> URL:
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    return url


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in database
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": SQLITE_TIMEOUT_S}}
    if in_memory:
        # One shared connection, or every worker thread would see its own empty database.
        options["poolclass"] = StaticPool
    elif not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def _set_sqlite_pragmas(dbapi_connection: Any, _connection_record: Any) -> None:
    # WAL lets readers work during a write; busy_timeout makes writers wait for each other
    # instead of failing; SQLite leaves foreign keys off unless asked, per connection.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL syncs at checkpoints rather than every commit: still crash-safe for the
        # database file, and an application crash loses nothing; only a power cut may drop the last commits.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def session_factory(engine: Engine) -> SessionFactory:
    """A callable returning a new `Session` on `engine`; objects stay readable after commit."""
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False)


@contextmanager
def session_scope(factory: SessionFactory) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back (and re-raises) when it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
