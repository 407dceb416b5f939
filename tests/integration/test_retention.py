"""Retention and per-person deletion against a real database, blobs on disk and a real Worker: a
recording goes with what was derived from it, and nothing referencing it is left in either store."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import SQLModel, select
from typer.testing import CliRunner

from cli.main import app
from models import (
    IngestBatch,
    LabelRating,
    ObservationLabel,
    Recording,
    ReportStatus,
    Signal,
    SignalReport,
    User,
    session_scope,
)
from scenarios import build
from scheduler.daemon import Scheduler
from services.recording_entries import ensure_indexed
from services.recordings import store_events
from services.retention import apply_retention, delete_recordings

pytestmark = pytest.mark.db
FRUSTRATION = {
    "scanner_type": "monitor",
    "provider": "heuristic",
    "scanner_config": {"prompt": "Frustrated?", "rule": "any_frustration"},
    "emits_signals": True,
}
# (session, person, scenario): alice and bob both hammer a broken Pay button; only alice u-turns.
PEOPLE = (
    ("alice-1", "alice", "checkout-js-error"),
    ("alice-2", "alice", "u-turn"),
    ("bob-1", "bob", "checkout-js-error"),
)


def record(
    world, session_id: str, distinct_id: str | None, scenario: str, at: datetime | None = None
) -> None:
    """Store a scenario as `session_id`; with `at`, it happened and was ingested then."""
    deps = world.deps if at is None else dataclasses.replace(world.deps, clock=lambda: at)
    start_ms = int((at or datetime(2026, 1, 5, tzinfo=UTC)).timestamp() * 1000) - 600_000
    store_events(deps, world.team_id, session_id, build(scenario, start_ms).events, distinct_id=distinct_id)


def recording_refs(world, *session_ids: str) -> dict[str, str]:
    with world.db.sessions() as session:
        rows = session.exec(select(Recording.session_id, Recording.blob_ref)).all()
    return {session_id: ref for session_id, ref in rows if session_id in session_ids}


def blob_exists(world, ref: str) -> bool:
    return world.deps.blobs.exists(ref)


@pytest.fixture(params=["folder", "s3"])
def world(request, sightline_home, database_url, monkeypatch):
    """The integration world with its blobs in a folder, then in S3 (the fake server): retention and
    deletion must leave no blob behind in either store."""
    from tests.support.world import build_world, close_world

    env = request.getfixturevalue("s3_env") if request.param == "s3" else {}
    built = build_world(monkeypatch, database_url, **env)
    assert built.deps.blobs.location.startswith("s3://" if env else "/")
    yield built
    close_world(built)


def rows_of_sessions(world, session_ids: set[str]) -> dict[str, int]:
    """For every table with a `session_id` column, how many of its rows name one of `session_ids`."""
    counts = {}
    with world.db.sessions() as session:
        for table in SQLModel.metadata.sorted_tables:
            if "session_id" in table.c:
                where = table.c.session_id.in_(session_ids)
                counts[table.name] = session.exec(select(func.count()).select_from(table).where(where)).one()
    assert {"recordings", "observations", "ingest_batches"} <= set(counts)
    return counts


def signals_of_sessions(world, session_ids: set[str]) -> list[Signal]:
    return [signal for signal in world.signals() if signal.extra.get("session_id") in session_ids]


def group(world) -> None:
    world.broker.get_actor("group_signals").send(world.team_id)
    world.broker.join("signals", timeout=60_000)
    world.worker.join()


def assert_reports_consistent(world) -> None:
    """Every live report counts exactly its live signals and their weight."""
    signals = [signal for signal in world.signals() if not signal.deleted]
    for report in world.rows(SignalReport):
        members = [signal for signal in signals if signal.report_id == report.id]
        if report.status == ReportStatus.DELETED:
            assert members == [] and report.signal_count == 0
            continue
        assert report.signal_count == len(members) > 0
        assert report.total_weight == pytest.approx(sum(signal.weight for signal in members))


@pytest.fixture
def people(world):
    """alice's and bob's recordings observed by a signal-emitting scanner, grouped into reports, with
    a label on each observation and an ingest batch per session."""
    for session_id, person, scenario in PEOPLE:
        record(world, session_id, person, scenario)
    observations = world.observe(world.scanner(**FRUSTRATION), *(row[0] for row in PEOPLE))
    assert {o.status for o in observations} == {"succeeded"}
    group(world)
    with session_scope(world.db.sessions) as session:
        user = session.exec(select(User)).first()
        for observation in observations:
            label = ObservationLabel(
                team_id=world.team_id,
                scanner_id=observation.scanner_id,
                observation_id=observation.id,
                user_id=user.id,
                rating=LabelRating.UP,
            )
            batch = IngestBatch(team_id=world.team_id, session_id=observation.session_id, batch_id="b1")
            session.add_all([label, batch])
    return {o.session_id: o for o in observations}


def test_deleting_a_person_removes_their_recordings_and_everything_derived_from_them(world, people):
    alice, refs = {"alice-1", "alice-2"}, recording_refs(world, "alice-1", "alice-2", "bob-1")
    alices = signals_of_sessions(world, alice)
    assert len(alices) >= 3 and signals_of_sessions(world, {"bob-1"})
    reports_before = {report.id: report for report in world.rows(SignalReport)}
    assert_reports_consistent(world)
    assert ensure_indexed(world.deps, world.team_id) >= 3  # their log and event lines go with them
    assert rows_of_sessions(world, alice)["recording_entry_indexes"] == 2
    deleted = delete_recordings(world.deps, world.team_id, distinct_id="alice")
    assert (deleted.recordings, deleted.blobs, deleted.observations, deleted.labels) == (2, 2, 2, 2)
    assert (deleted.ingest_batches, deleted.signals) == (2, len(alices))
    assert not any(rows_of_sessions(world, alice).values())
    assert signals_of_sessions(world, alice) == []
    assert not any(blob_exists(world, refs[session_id]) for session_id in alice)
    assert [label.observation_id for label in world.rows(ObservationLabel)] == [people["bob-1"].id]
    # bob is untouched; the receipts stay (credits, no text) for the month's quota.
    bobs = rows_of_sessions(world, {"bob-1"})
    assert (bobs["recordings"], bobs["observations"], bobs["ingest_batches"]) == (1, 1, 1)
    assert blob_exists(world, refs["bob-1"]) and signals_of_sessions(world, {"bob-1"})
    assert len(world.receipts()) == len(people)
    assert_reports_consistent(world)
    after = {report.id: report for report in world.rows(SignalReport)}
    assert set(after) == set(reports_before)  # reports are moved to deleted, never dropped
    emptied = [r for r in after.values() if r.status == ReportStatus.DELETED]
    assert deleted.reports_deleted == len(emptied) >= 1 and deleted.reports_changed > len(emptied)
    assert all(r.title is None and r.summary is None for r in emptied)


def test_the_cli_asks_first_then_prints_what_went(world, people):
    declined = CliRunner().invoke(app, ["recordings", "delete", "--session", "bob-1"], input="n\n")
    assert declined.exit_code == 1 and rows_of_sessions(world, {"bob-1"})["recordings"] == 1
    done = CliRunner().invoke(app, ["recordings", "delete", "--session", "bob-1"], input="y\n")
    assert done.exit_code == 0, done.output
    assert "Deleted 1 recording(s), 1 blob(s), 1 observation(s), 1 label(s)" in done.output
    assert "1 ingest batch(es)" in done.output and "report(s) changed" in done.output
    assert not any(rows_of_sessions(world, {"bob-1"}).values())
    again = CliRunner().invoke(app, ["recordings", "delete", "--distinct-id", "nobody", "--yes"])
    assert again.exit_code == 0 and "Deleted 0 recording(s)" in again.output
    both = CliRunner().invoke(app, ["recordings", "delete", "--session", "x", "--distinct-id", "y", "--yes"])
    assert both.exit_code == 2 and "exactly one" in both.output
    assert CliRunner().invoke(app, ["recordings", "delete", "--yes"]).exit_code == 2


def test_retention_deletes_only_old_recordings_in_bounded_batches(world):
    now = datetime.now(UTC)
    old = [f"old-{index}" for index in range(5)]
    for index, session_id in enumerate(old):
        record(world, session_id, "carol", "smooth-signup", at=now - timedelta(days=91, minutes=index))
    record(world, "recent", "carol", "smooth-signup", at=now - timedelta(days=89))
    world.observe(world.scanner(**FRUSTRATION), *old, "recent")
    refs = recording_refs(world, *old, "recent")
    taken = [apply_retention(world.deps, now=now, batch=2).recordings for _ in range(4)]
    assert taken == [2, 2, 1, 0]
    assert not any(rows_of_sessions(world, set(old)).values())
    assert not any(blob_exists(world, refs[session_id]) for session_id in old)
    assert rows_of_sessions(world, {"recent"})["observations"] == 1 and blob_exists(world, refs["recent"])
    # The scenarios ended in January but were imported today: kept for the period after arriving.
    assert all(rows_of_sessions(world, {s.session_id})["recordings"] for s in world.scenarios.values())


def test_a_scheduler_tick_applies_retention(world):
    now = datetime.now(UTC)
    record(world, "ancient", None, "u-turn", at=now - timedelta(days=400))
    scheduler = Scheduler(world.deps)
    first = scheduler.tick(now)
    assert first.retention["recordings"] == 1 and first.retention["blobs"] == 1
    assert scheduler.tick(now + timedelta(seconds=10)).retention["recordings"] == 0


def listing(world, shape=None):
    """The world's deps, with every listed ref passed through `shape` when given."""
    if shape is None:
        return world.deps

    class Reshaped:
        def refs(self, prefix: str = ""):
            return map(shape, world.deps.blobs.refs(prefix))

        def __getattr__(self, name):
            return getattr(world.deps.blobs, name)

    return dataclasses.replace(world.deps, blobs=Reshaped())


def test_a_blob_no_row_references_is_removed_after_two_checks_an_hour_apart(world):
    deps = listing(world)
    orphan, _ = deps.blobs.write(world.team_id, "crashed-between-commit-and-delete", [{"type": 4}])
    kept = recording_refs(world, *(s.session_id for s in world.scenarios.values())).values()
    now = datetime.now(UTC)
    assert apply_retention(deps, now=now).orphan_blobs == 0  # first seen: could be a write in flight
    assert apply_retention(deps, now=now + timedelta(minutes=30)).orphan_blobs == 0  # not checked
    assert blob_exists(world, orphan)
    assert apply_retention(deps, now=now + timedelta(minutes=61)).orphan_blobs == 1
    assert not blob_exists(world, orphan) and all(blob_exists(world, ref) for ref in kept)


def test_a_blob_committed_between_two_checks_is_kept(world):
    deps = listing(world)
    now = datetime.now(UTC)
    ref, _ = deps.blobs.write(world.team_id, "slow-import", [{"type": 4}])
    assert apply_retention(deps, now=now).orphan_blobs == 0  # its row is not committed yet
    with session_scope(world.db.sessions) as session:
        session.add(
            Recording(
                team_id=world.team_id, session_id="slow-import", start_time=now, end_time=now, blob_ref=ref
            )
        )
    assert apply_retention(deps, now=now + timedelta(hours=2)).orphan_blobs == 0
    assert blob_exists(world, ref)


def test_a_listing_that_matches_no_row_removes_nothing(world):
    deps = listing(world, shape=lambda ref: f"bucket/{ref}")  # another shape than the rows' refs
    now = datetime.now(UTC)
    for later in (timedelta(0), timedelta(hours=2)):
        assert apply_retention(deps, now=now + later).orphan_blobs == 0
    refs = recording_refs(world, *(s.session_id for s in world.scenarios.values())).values()
    assert all(blob_exists(world, ref) for ref in refs)


def test_a_persons_batches_waiting_for_their_merge_go_with_their_blobs(world):
    record(world, "dave-1", "dave", "u-turn")
    waiting = {}
    for session_id in ("dave-1", "dave-2"):  # dave-2 has no recording yet: only its batch arrived
        ref, _ = world.deps.blobs.write(world.team_id, f"{session_id}\x00b9", [{"type": 4}])
        waiting[session_id] = ref
        with session_scope(world.db.sessions) as session:
            session.add(
                IngestBatch(
                    team_id=world.team_id,
                    session_id=session_id,
                    batch_id="b9",
                    blob_ref=ref,
                    distinct_id="dave",
                )
            )
    deleted = delete_recordings(world.deps, world.team_id, distinct_id="dave")
    assert (deleted.recordings, deleted.ingest_batches, deleted.blobs) == (1, 2, 3)
    assert not any(rows_of_sessions(world, {"dave-1", "dave-2"}).values())
    assert not any(blob_exists(world, ref) for ref in waiting.values())


def test_the_orphan_check_keeps_the_blob_of_a_batch_waiting_for_its_merge(world):
    deps = listing(world)
    ref, _ = deps.blobs.write(world.team_id, "slow\x00b1", [{"type": 4}])
    with session_scope(world.db.sessions) as session:
        session.add(IngestBatch(team_id=world.team_id, session_id="slow", batch_id="b1", blob_ref=ref))
    now = datetime.now(UTC)
    for later in (timedelta(0), timedelta(hours=2)):
        assert apply_retention(deps, now=now + later).orphan_blobs == 0
    assert blob_exists(world, ref)
