"""The schema, its migration and the small queries, against a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, SQLModel, col, select

from models import (
    Delivery,
    Observation,
    ObservationStatus,
    Organization,
    Recording,
    Scanner,
    ScannerType,
    Signal,
    Team,
    User,
    as_utc,
    make_engine,
    session_factory,
    session_scope,
)
from models.migrate import upgrade
from models.queries import ensure_defaults, get_recording, list_recordings
from models.revisions import current_revision, head_revision

pytestmark = [pytest.mark.db, pytest.mark.real_migrations]

START = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def _team_id(session: Session) -> int:
    _, team, _ = ensure_defaults(session)
    assert team.id is not None
    return team.id


def _recording(team_id: int, session_id: str = "s-1", start: datetime = START, **fields) -> Recording:
    return Recording(
        team_id=team_id,
        session_id=session_id,
        start_time=start,
        end_time=start + timedelta(minutes=2),
        blob_ref=f"blobs/{session_id}.jsonl.gz",
        **fields,
    )


def _scanner(team_id: int, name: str = "checkout errors") -> Scanner:
    return Scanner(team_id=team_id, name=name, scanner_type=ScannerType.MONITOR, model="gemini-3.6-flash")


def _schema(engine: Engine) -> dict[str, tuple]:
    inspector = inspect(engine)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            sorted(index["name"] for index in inspector.get_indexes(table)),
            sorted(str(u["name"]) for u in inspector.get_unique_constraints(table)),
        )
        for table in inspector.get_table_names()
    }


def test_migrating_an_empty_database_creates_every_table_and_records_head(database_url):
    upgrade(database_url)

    engine = make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        assert tables - set(SQLModel.metadata.tables) == {"alembic_version"}
        assert current_revision(engine) == head_revision() == "0021"
    finally:
        engine.dispose()


def test_migrating_twice_changes_nothing(engine):
    before = _schema(engine)

    upgrade(engine)

    assert _schema(engine) == before
    assert current_revision(engine) == head_revision()


def test_the_migration_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)

    assert differences == []


def test_ensure_defaults_twice_creates_one_organization_team_and_user(engine):
    factory = session_factory(engine)
    with session_scope(factory) as session:
        first = ensure_defaults(session, timezone="Europe/Paris")
    with session_scope(factory) as session:
        second = ensure_defaults(session, timezone="America/New_York")
        counts = [
            session.exec(select(func.count()).select_from(table)).one()
            for table in (Organization, Team, User)
        ]

    assert counts == [1, 1, 1]
    assert [row.id for row in first] == [row.id for row in second]
    assert second[1].timezone == "Europe/Paris"
    assert second[2].email == "admin@localhost"


def test_a_second_recording_of_the_same_session_in_a_team_is_refused(session):
    team_id = _team_id(session)
    session.add(_recording(team_id, "s-1"))
    session.flush()

    session.add(_recording(team_id, "s-1"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_a_second_observation_of_a_session_by_the_same_scanner_is_refused(session):
    team_id = _team_id(session)
    scanner = _scanner(team_id)
    session.add(scanner)
    session.flush()
    for _ in range(2):
        session.add(
            Observation(
                team_id=team_id,
                scanner_id=scanner.id,
                session_id="s-1",
                workflow_id=f"observe-{scanner.id}-s-1",
            )
        )

    with pytest.raises(IntegrityError):
        session.flush()


def test_emitting_a_signal_twice_with_one_source_id_is_refused(session):
    team_id = _team_id(session)
    for _ in range(2):
        session.add(
            Signal(
                team_id=team_id,
                source_product="replay_vision",
                source_type="scanner_finding",
                source_id="observation:1:0",
                description="Checkout button does nothing",
            )
        )

    with pytest.raises(IntegrityError):
        session.flush()


def test_a_delivery_needs_exactly_one_source(session):
    session.add(Delivery(target="log"))

    with pytest.raises(IntegrityError):
        session.flush()


def test_foreign_keys_are_enforced(session):
    session.add(_recording(team_id=987654))

    with pytest.raises(IntegrityError):
        session.flush()


def test_json_columns_round_trip_and_none_is_sql_null(engine):
    factory = session_factory(engine)
    with session_scope(factory) as session:
        team_id = _team_id(session)
        scanner = _scanner(team_id)
        session.add(scanner)
        session.flush()
        snapshot = {"name": "checkout errors", "config": {"prompt": "Did it fail?", "tags": ["a", "b"]}}
        session.add_all(
            [
                _recording(
                    team_id,
                    "with-viewport",
                    urls=["https://a.test/", "https://a.test/pay"],
                    viewport={"width": 1280, "height": 720},
                ),
                _recording(team_id, "without-viewport"),
                Observation(
                    team_id=team_id,
                    scanner_id=scanner.id,
                    session_id="s",
                    workflow_id="w",
                    scanner_snapshot=snapshot,
                    result_tags=["rage_click"],
                ),
            ]
        )

    with session_scope(factory) as session:
        recording = get_recording(session, team_id, "with-viewport")
        observation = session.exec(select(Observation)).one()
        without = session.exec(select(Recording).where(col(Recording.viewport).is_(None))).all()

    assert recording is not None
    assert recording.urls == ["https://a.test/", "https://a.test/pay"]
    assert recording.viewport == {"width": 1280, "height": 720}
    assert observation.scanner_snapshot == snapshot
    assert observation.result_tags == ["rage_click"]
    assert [r.session_id for r in without] == ["without-viewport"]


def test_datetimes_come_back_as_the_same_utc_instant_through_as_utc(engine):
    factory = session_factory(engine)
    with session_scope(factory) as session:
        team_id = _team_id(session)
        session.add(_recording(team_id, "s-1"))

    with session_scope(factory) as session:
        stored = get_recording(session, team_id, "s-1")

    assert stored is not None
    if engine.dialect.name == "sqlite":
        assert stored.start_time.tzinfo is None
    assert as_utc(stored.start_time) == START
    assert as_utc(stored.start_time).tzinfo is UTC


def test_as_utc_attaches_utc_to_naive_values_and_converts_aware_ones():
    paris = timezone(timedelta(hours=1))

    assert as_utc(datetime(2025, 3, 1, 9, 30)) == START
    assert as_utc(datetime(2025, 3, 1, 10, 30, tzinfo=paris)).tzinfo is UTC
    assert as_utc(datetime(2025, 3, 1, 10, 30, tzinfo=paris)) == START
    assert as_utc(None) is None


def test_statuses_read_back_as_enum_members_and_unknown_values_are_refused(session):
    team_id = _team_id(session)
    scanner = _scanner(team_id)
    session.add(scanner)
    session.flush()
    session.add(Observation(team_id=team_id, scanner_id=scanner.id, session_id="s-1", workflow_id="w"))
    session.flush()
    session.expire_all()

    status = session.exec(select(Observation.status)).one()
    assert status is ObservationStatus.PENDING

    session.add(
        Observation(team_id=team_id, scanner_id=scanner.id, session_id="s-2", workflow_id="w", status="done")
    )
    with pytest.raises(StatementError):
        session.flush()


def test_list_recordings_returns_a_teams_newest_first(session):
    team_id = _team_id(session)
    for hours, session_id in [(0, "oldest"), (2, "newest"), (1, "middle")]:
        session.add(_recording(team_id, session_id, start=START + timedelta(hours=hours)))
    session.flush()

    listed = list_recordings(session, team_id, limit=2)

    assert [r.session_id for r in listed] == ["newest", "middle"]
    assert get_recording(session, team_id, "missing") is None


def test_session_scope_rolls_back_when_the_block_raises(engine):
    factory = session_factory(engine)

    with pytest.raises(RuntimeError), session_scope(factory) as session:
        ensure_defaults(session)
        raise RuntimeError("boom")

    with session_scope(factory) as session:
        assert session.exec(select(func.count()).select_from(Organization)).one() == 0


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with engine.connect() as connection:
        pragmas = [
            connection.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        ]

    assert pragmas == ["wal", 1, 30000]


def test_make_engine_creates_the_sqlite_folder_and_gives_postgresql_the_psycopg_driver(tmp_path):
    sqlite = make_engine(f"sqlite:///{tmp_path / 'nested' / 'deeper' / 'sightline.db'}")
    postgres = make_engine(f"postgresql://user@localhost/{uuid4().hex}")

    assert (tmp_path / "nested" / "deeper").is_dir()
    assert postgres.dialect.driver == "psycopg"
    sqlite.dispose()
    postgres.dispose()


def test_migration_0005_redacts_urls_stored_before_redaction_at_import(database_url):
    upgrade(database_url, "0004")
    engine = make_engine(database_url)
    login = "https://shop.example/login?user=ann&password=hunter2"
    try:
        columns = "id, team_id, session_id, start_time, end_time, start_url, urls, custom_events, blob_ref"
        with engine.begin() as connection:  # the 0004 schema: the models have columns it lacks
            organization = uuid4().hex
            connection.execute(
                text(
                    "INSERT INTO organizations (id, name, created_at, updated_at) VALUES (:id, 'o', :at, :at)"
                ),
                {"id": organization, "at": START},
            )
            team_id = connection.execute(
                text(
                    "INSERT INTO teams (organization_id, name, timezone, created_at, updated_at)"
                    " VALUES (:org, 't', 'UTC', :at, :at) RETURNING id"
                ),
                {"org": organization, "at": START},
            ).scalar_one()
            connection.execute(
                text(
                    f"INSERT INTO recordings ({columns}, duration_s, active_s, click_count, keypress_count,"
                    " console_error_count, device_type, event_count, size_bytes, last_ingested_at, created_at)"
                    " VALUES (:id, :team, 's-1', :at, :at, :url, :urls, :events, 'b', 0, 0, 0, 0, 0,"
                    " 'desktop', 0, 0, :at, :at)"
                ),
                {
                    "id": uuid4().hex,
                    "team": team_id,
                    "at": START,
                    "url": login,
                    "urls": f'["{login}", "https://shop.example/pay#token=abc"]',
                    "events": '["signup jane@example.com"]',
                },
            )
        upgrade(engine)
        with session_factory(engine)() as session:
            row = session.exec(select(Recording)).one()
        assert row.start_url == "https://shop.example/login?user=ann&password=[secret]"
        assert row.urls == [row.start_url, "https://shop.example/pay#token=[secret]"]
        assert row.custom_events == ["signup [email]"] and row.skipped_events == 0
    finally:
        engine.dispose()


def test_the_head_read_from_the_files_is_alembics_head():
    from alembic.script import ScriptDirectory

    from models.migrate import alembic_config

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
