"""Sweeping to the headroom: a scanner whose last sweep left a backlog is topped up on the next tick
(within its caps and budget, fairly, once however many schedulers look); a caught-up one waits for
its slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from models import Observation, ObservationStatus, Scanner, as_utc, session_scope
from models.scheduler_queries import claim_sweep, claim_top_up, finish_sweep
from pipeline.sampling import slot_start, sweep_slot
from pipeline.sweep import BACKLOG_STOPS
from services.sweeps import top_up
from tests.integration.test_scheduler import SETTLE, Harness

pytestmark = pytest.mark.db


@pytest.fixture
def harness(sightline_home, database_url, monkeypatch):
    built = Harness(monkeypatch, database_url)
    yield built
    built.close()


@pytest.fixture
def capped(sightline_home, database_url, monkeypatch):
    """A scheduler whose scanners may have three observations in flight."""
    built = Harness(monkeypatch, database_url, SIGHTLINE_IN_FLIGHT_PER_SCANNER="3")
    yield built
    built.close()


def _record_many(harness: Harness, prefix: str, count: int, now: datetime) -> None:
    for index in range(count):
        harness.record(f"{prefix}{index:03}", now - SETTLE + timedelta(minutes=1, seconds=index))


def _slot_starts(harness: Harness, scanner: Scanner, after: datetime) -> tuple[datetime, datetime]:
    """A second into this scanner's first slot after `after`, and into the slot after that."""
    interval = harness.settings.sweep_interval_s
    slot = sweep_slot(str(scanner.id), after.timestamp(), interval) + 1
    first, second = (slot_start(str(scanner.id), n, interval) + 1 for n in (slot, slot + 1))
    return datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(second, UTC)


def _finish_all(harness: Harness, limit: int | None = None) -> None:
    with session_scope(harness.db.sessions) as session:
        running = select(Observation).where(Observation.status == ObservationStatus.PENDING).limit(limit)
        for observation in session.exec(running):
            observation.status, observation.completed_at = ObservationStatus.SUCCEEDED, datetime.now(UTC)
            session.add(observation)


def test_a_backlogged_scanner_is_topped_up_on_the_next_tick_without_waiting_for_its_slot(capped):
    scanner = capped.scanner()
    now = datetime.now(UTC)
    _record_many(capped, "s", 5, now)
    first, _ = _slot_starts(capped, scanner, now + timedelta(minutes=2))
    assert capped.tick(first).enqueued == 3
    assert capped.fresh(Scanner, scanner.id).sweep_stopped == "full"
    _finish_all(capped)
    report = capped.tick(first + timedelta(seconds=10))  # the same slot: only a top-up can sweep
    assert report.enqueued == 2 and report.swept[0]["top_up"] is True
    assert sorted(o.session_id for o in capped.observations(scanner)) == [f"s{i:03}" for i in range(5)]
    assert capped.fresh(Scanner, scanner.id).sweep_stopped == ""  # caught up
    assert capped.queued("observe") == 5


def test_a_caught_up_scanner_waits_for_its_slot(capped):
    scanner = capped.scanner()
    now = datetime.now(UTC)
    _record_many(capped, "early", 2, now)
    first, second = _slot_starts(capped, scanner, now + timedelta(minutes=2))
    assert capped.tick(first).enqueued == 2
    _finish_all(capped)
    capped.record("late", now - SETTLE + timedelta(minutes=1), ingested=now - SETTLE + timedelta(minutes=2))
    assert capped.tick(first + timedelta(seconds=10)).swept == []
    assert capped.tick(second).enqueued == 1


def test_the_in_flight_cap_bounds_a_top_up(capped):
    scanner = capped.scanner()
    now = datetime.now(UTC)
    _record_many(capped, "s", 8, now)
    first, _ = _slot_starts(capped, scanner, now + timedelta(minutes=2))
    assert capped.tick(first).enqueued == 3
    assert capped.tick(first + timedelta(seconds=10)).swept == []  # no room: not even claimed
    _finish_all(capped, limit=1)
    report = capped.tick(first + timedelta(seconds=20))
    assert report.enqueued == 1 and report.swept[0]["limit"] == 1
    assert len(capped.observations(scanner)) == 4


def test_a_scanner_stopped_by_its_budget_is_not_topped_up(capped):
    price = capped.settings.model_prices["gemini-3-flash-preview"]
    scanner = capped.scanner(
        provider="google",
        model="gemini-3-flash-preview",
        credit_limit=price * 2,
        scanner_config={"prompt": "Did the payment fail?"},
    )
    now = datetime.now(UTC)
    _record_many(capped, "q", 5, now)
    first, _ = _slot_starts(capped, scanner, now + timedelta(minutes=2))
    assert capped.tick(first).enqueued == 2
    assert capped.fresh(Scanner, scanner.id).sweep_stopped == "budget"
    _finish_all(capped)
    assert capped.tick(first + timedelta(seconds=10)).swept == []
    assert len(capped.observations(scanner)) == 2


def test_a_sweep_in_progress_holds_its_scanner_against_every_other_claim(harness):
    scanner = harness.scanner()
    now = datetime.now(UTC)
    until = now + timedelta(seconds=60)
    with session_scope(harness.db.sessions) as session:
        session.get(Scanner, scanner.id).sweep_stopped = "full"
    with session_scope(harness.db.sessions) as session:
        assert claim_top_up(session, scanner.id, now, until, BACKLOG_STOPS)
    later = now + timedelta(seconds=1)
    with session_scope(harness.db.sessions) as session:  # a second scheduler, while the first sweeps
        assert not claim_top_up(session, scanner.id, later, until, BACKLOG_STOPS)
        assert not claim_sweep(session, scanner.id, 10**9, later, until)
    with session_scope(harness.db.sessions) as session:
        fresh = session.get(Scanner, scanner.id)
        finish_sweep(session, scanner.id, (as_utc(fresh.last_swept_at), ""), (now, "x"), "full")
    with session_scope(harness.db.sessions) as session:  # released: the next claim may go
        assert claim_top_up(session, scanner.id, later, until, BACKLOG_STOPS)


def test_two_schedulers_topping_up_at_once_never_enqueue_a_session_twice(
    sightline_home, database_url, monkeypatch
):
    harness = Harness(monkeypatch, database_url, SIGHTLINE_SWEEP_LIMIT="4")
    try:
        scanner = harness.scanner()
        now = datetime.now(UTC)
        _record_many(harness, "s", 10, now)
        first, _ = _slot_starts(harness, scanner, now + timedelta(minutes=2))
        assert harness.tick(first).enqueued == 4
        with harness.db.sessions() as session:  # what the second scheduler read before the first swept
            stale = session.get_one(Scanner, scanner.id)
            session.expunge(stale)
        at = first + timedelta(seconds=10)
        assert sum(o.enqueued for o in top_up(harness.deps, now=at).outcomes) == 4
        again = top_up(harness.deps, now=at, scanners=[stale]).outcomes  # an old watermark
        assert [o.enqueued for o in again] == [0]
        observed = [o.session_id for o in harness.observations(scanner)]
        assert sorted(observed) == [f"s{i:03}" for i in range(8)]
        assert harness.queued("observe") == 8  # one queued id per row
        assert harness.fresh(Scanner, scanner.id).last_seen_session_id == "s007"  # not moved back
    finally:
        harness.close()


def test_two_backlogged_scanners_take_turns_when_a_tick_cannot_fit_both(harness):
    now = datetime.now(UTC)
    scanners = [harness.scanner(), harness.scanner()]
    _record_many(harness, "s", 120, now)
    with session_scope(harness.db.sessions) as session:  # both left a backlog at their last sweep
        for index, view in enumerate(scanners):
            row = session.get_one(Scanner, view.id)
            row.sweep_stopped, row.sweep_slot = "full", 10**9
            row.last_sweep_at = now - timedelta(minutes=5 - index)
    taken, later = [], now + timedelta(minutes=5)  # every recording settled
    for step in range(4):
        _finish_all(harness)
        outcomes = top_up(harness.deps, now=later + timedelta(seconds=step), per_tick=60).outcomes
        taken.append([(o.name, o.enqueued) for o in outcomes])
    first, second = (view.name for view in scanners)
    assert taken == [[(first, 50)], [(second, 50)], [(first, 50)], [(second, 50)]]
    both = top_up(harness.deps, now=later + timedelta(seconds=5)).outcomes
    assert sorted(o.enqueued for o in both) == [20, 20]  # what is left of each backlog, in one tick


def test_between_ticks_the_scheduler_tops_up_while_a_backlog_is_left(capped):
    scanner = capped.scanner()
    now = datetime.now(UTC)
    _record_many(capped, "s", 5, now)
    first, _ = _slot_starts(capped, scanner, now + timedelta(minutes=2))
    capped.tick(first)
    _finish_all(capped)
    assert capped.scheduler.top_up(first + timedelta(seconds=1)) is True  # it had a backlog
    assert len(capped.observations(scanner)) == 5
    assert capped.scheduler.top_up(first + timedelta(seconds=2)) is False  # caught up: the loop waits


def test_status_shows_how_fast_a_scanner_drains_and_when_its_backlog_is_done(capped):
    scanner = capped.scanner()
    now = datetime.now(UTC)
    _record_many(capped, "s", 9, now)
    first, _ = _slot_starts(capped, scanner, now + timedelta(minutes=2))
    capped.tick(first)  # 3 in flight, 6 left unswept
    row = capped.status_row(scanner, first)
    assert (row["in_flight"], row["backlog"], row["drain_per_min"], row["backlog_eta_s"]) == (3, 9, 0, None)
    with session_scope(capped.db.sessions) as session:  # 3 finished over the last minute
        for index, observation in enumerate(session.exec(select(Observation))):
            observation.status = ObservationStatus.SUCCEEDED
            observation.completed_at = first - timedelta(seconds=60 - 20 * index)
            session.add(observation)
    row = capped.status_row(scanner, first)
    assert (row["backlog"], row["drain_per_min"], row["backlog_eta_s"]) == (6, 3.0, 120)
