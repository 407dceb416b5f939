"""The scheduler's tick against a real database and the embedded Redis: sweeps and their watermark,
headroom and quota, action claims, reapers and kicks, leadership."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from actors import broker as broker_module
from integrations.leadership import Leadership, read_recent_ticks
from integrations.storage import database
from models import (
    ActionRun,
    ActionRunStatus,
    Observation,
    ObservationStatus,
    ProcessingState,
    Recording,
    Scanner,
    Signal,
    VisionAction,
    as_utc,
    session_scope,
)
from models.migrate import upgrade
from models.queries import ensure_defaults
from pipeline.names import OBSERVE
from pipeline.sampling import slot_start, sweep_slot
from scheduler.daemon import Scheduler
from services.action_runs import claim_occurrence
from services.redelivery import redis_kept
from services.scanners import ScannerView, create_scanner, update_scanner
from services.status import status
from settings import get_settings
from tests.support import migrated

pytestmark = pytest.mark.db
SETTLE = timedelta(minutes=35)
MONITOR = {
    "scanner_type": "monitor",
    "provider": "heuristic",
    "scanner_config": {"prompt": "Rage?", "rule": "rage_click"},
}


class Harness:
    """A migrated database, the embedded Redis and a scheduler, with no worker: messages stay queued."""

    def __init__(self, monkeypatch, database_url: str, **env: str):
        variables = {
            "DATABASE_URL": database_url,
            "SIGHTLINE_REDIS_NAMESPACE": f"test-{uuid.uuid4().hex[:8]}",
            "GEMINI_API_KEY": "test-key",
            **env,
        }
        for key, value in variables.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        self.settings = get_settings()
        migrated.copy_to(database_url)  # at head already (tests/support/migrated.py)
        self.db = database(self.settings)
        upgrade(self.db.engine)
        with session_scope(self.db.sessions) as session:
            self.team_id = ensure_defaults(session)[1].id
        monkeypatch.setattr(broker_module, "_embedded", None)
        self.broker = broker_module.setup_broker(self.settings)
        self.client = broker_module.redis_client(self.settings)
        self.deps = broker_module.process_deps(self.settings)
        self.scheduler = Scheduler(self.deps)

    def close(self) -> None:
        self.broker.close()
        if broker_module._embedded is not None:
            broker_module._embedded.stop()
            broker_module._embedded = None

    def scanner(self, **spec) -> ScannerView:
        spec = {**MONITOR, "name": f"scanner-{uuid.uuid4().hex[:6]}", **spec}
        return create_scanner(self.deps, self.team_id, spec)

    def record(self, session_id: str, end: datetime, ingested: datetime | None = None) -> None:
        with session_scope(self.db.sessions) as session:
            session.add(
                Recording(
                    team_id=self.team_id,
                    session_id=session_id,
                    start_time=end - timedelta(minutes=2),
                    end_time=end,
                    duration_s=120,
                    active_s=60,
                    event_count=50,
                    urls=["https://shop.example/"],
                    blob_ref="unused",
                    last_ingested_at=ingested or end,
                )
            )

    def tick(self, now: datetime):
        return self.scheduler.tick(now)

    def observations(self, scanner: Scanner | None = None) -> list[Observation]:
        with self.db.sessions() as session:
            statement = select(Observation)
            if scanner is not None:
                statement = statement.where(Observation.scanner_id == scanner.id)
            return list(session.exec(statement))

    def fresh(self, model, key):
        with self.db.sessions() as session:
            return session.get(model, key)

    def status_row(self, scanner: Scanner, now: datetime | None = None) -> dict:
        rows = status(self.deps, now=now or datetime.now(UTC))["scanners"]
        return next(row for row in rows if row["id"] == str(scanner.id))

    def queued(self, queue: str) -> int:
        """How many ids the queue's ready messages carry (a heuristic scanner's observations go
        several to a message: `services.observe.dispatch`)."""
        base = f"{self.settings.redis_namespace}:{queue}"
        count = 0
        for message_id in self.client.lrange(base, 0, -1):
            args = json.loads(self.client.hget(f"{base}.msgs", message_id))["args"]
            count += len(args[0]) if args and isinstance(args[0], list) else 1
        return count


@pytest.fixture
def harness(sightline_home, database_url, monkeypatch):
    built = Harness(monkeypatch, database_url)
    yield built
    built.close()


def slots(start: datetime, count: int, interval_s: int = 300):
    """`count` instants one sweep interval apart: each falls in a new sweep slot."""
    return [start + timedelta(seconds=interval_s * i) for i in range(count)]


def test_sessions_ending_at_one_instant_are_swept_exactly_once_over_saturated_ticks(
    sightline_home, database_url, monkeypatch
):
    harness = Harness(monkeypatch, database_url, SIGHTLINE_SWEEP_LIMIT="10")
    try:
        scanner = harness.scanner()
        now = datetime.now(UTC)
        end = now - SETTLE + timedelta(minutes=1)  # after the new scanner's start, settled by the ticks below
        for index in range(25):
            harness.record(f"same-instant-{index:02}", end)
        taken = []
        for tick_at in slots(now + timedelta(minutes=2), 5):
            report = harness.tick(tick_at)
            taken.append(report.enqueued)
        assert taken == [10, 10, 5, 0, 0]
        observed = sorted(o.session_id for o in harness.observations(scanner))
        assert observed == [f"same-instant-{index:02}" for index in range(25)]
        assert harness.queued("observe") == 25  # one queued id per row, none twice
        fresh = harness.fresh(Scanner, scanner.id)
        assert fresh.last_seen_session_id == "same-instant-24"
    finally:
        harness.close()


def test_a_slot_is_swept_once_however_often_it_ticks(harness):
    scanner = harness.scanner()
    now = datetime.now(UTC)
    harness.record("one", now - SETTLE + timedelta(minutes=1))
    # Both ticks inside one slot of this scanner's stagger (whatever the clock says when this runs):
    # a second into the slot that begins after now + 2 minutes, then ten seconds later.
    interval = harness.settings.sweep_interval_s
    slot = sweep_slot(str(scanner.id), (now + timedelta(minutes=2)).timestamp(), interval) + 1
    later = datetime.fromtimestamp(slot_start(str(scanner.id), slot, interval) + 1, UTC)
    first, second = harness.tick(later), harness.tick(later + timedelta(seconds=10))
    assert len(first.swept) == 1 and second.swept == []
    assert len(harness.observations(scanner)) == 1
    recent = read_recent_ticks(harness.client, harness.settings.redis_namespace)
    assert [tick["at"] for tick in recent[:2]] == [second.at, first.at]  # the operators' page, newest first


def test_an_unsettled_session_is_picked_up_once_it_settles(harness):
    scanner = harness.scanner()
    now = datetime.now(UTC)
    end = now - SETTLE + timedelta(minutes=1)
    tick_at = now + timedelta(minutes=2)
    harness.record("still-uploading", end, ingested=tick_at - timedelta(minutes=1))
    harness.record("done", end + timedelta(seconds=30))
    assert harness.tick(tick_at).enqueued == 1  # the settled one; the other is not a candidate yet
    assert [o.session_id for o in harness.observations(scanner)] == ["done"]
    settled_at = tick_at + SETTLE + timedelta(minutes=1)
    assert harness.tick(settled_at).enqueued == 1
    assert sorted(o.session_id for o in harness.observations(scanner)) == ["done", "still-uploading"]


def test_a_disabled_period_is_not_backfilled_after_re_enabling(harness):
    now = datetime.now(UTC)
    scanner = harness.scanner()
    with session_scope(harness.db.sessions) as session:  # as if it had been created two hours ago
        session.get(Scanner, scanner.id).last_swept_at = now - SETTLE - timedelta(hours=2)
    harness.record("before-disable", now - SETTLE - timedelta(minutes=110))
    assert harness.tick(now).enqueued == 1
    update_scanner(harness.deps, harness.team_id, str(scanner.id), {"enabled": False})
    harness.record("while-disabled", now - SETTLE - timedelta(minutes=60))
    assert harness.tick(now + timedelta(minutes=10)).swept == []
    # Re-enabled now (the real clock): the watermark restarts at now − settle.
    update_scanner(harness.deps, harness.team_id, str(scanner.id), {"enabled": True})
    reenabled = harness.fresh(Scanner, scanner.id)
    assert as_utc(reenabled.last_swept_at) >= now - SETTLE
    harness.record("after-enable", as_utc(reenabled.last_swept_at) + timedelta(minutes=1))
    report = harness.tick(datetime.now(UTC) + timedelta(minutes=30))
    assert report.enqueued == 1
    assert sorted(o.session_id for o in harness.observations(scanner)) == ["after-enable", "before-disable"]


def test_headroom_stops_a_sweep_without_passing_what_was_not_enqueued(
    sightline_home, database_url, monkeypatch
):
    harness = Harness(monkeypatch, database_url, SIGHTLINE_IN_FLIGHT_PER_SCANNER="3")
    try:
        scanner = harness.scanner()
        now = datetime.now(UTC)
        for index in range(5):
            harness.record(f"s{index}", now - SETTLE + timedelta(minutes=1, seconds=index))
        first, second, third = slots(now + timedelta(minutes=2), 3)
        assert harness.tick(first).enqueued == 3
        assert harness.fresh(Scanner, scanner.id).last_seen_session_id == "s2"
        assert harness.tick(second).enqueued == 0  # three still in flight
        assert harness.fresh(Scanner, scanner.id).last_seen_session_id == "s2"
        with session_scope(harness.db.sessions) as session:
            for observation in session.exec(select(Observation)):
                observation.status, observation.completed_at = ObservationStatus.SUCCEEDED, datetime.now(UTC)
                session.add(observation)
        assert harness.tick(third).enqueued == 2
        assert sorted(o.session_id for o in harness.observations(scanner)) == ["s0", "s1", "s2", "s3", "s4"]
    finally:
        harness.close()


def test_the_quota_stops_a_sweep_without_passing_what_was_not_enqueued(harness):
    price = harness.settings.model_prices["gemini-3-flash-preview"]
    scanner = harness.scanner(
        provider="google",
        model="gemini-3-flash-preview",
        credit_limit=price * 2,
        scanner_config={"prompt": "Did the payment fail?"},
    )
    now = datetime.now(UTC)
    for index in range(4):
        harness.record(f"q{index}", now - SETTLE + timedelta(minutes=1, seconds=index))
    first, second = slots(now + timedelta(minutes=2), 2)
    assert harness.tick(first).enqueued == 2
    assert harness.tick(second).enqueued == 0
    assert harness.fresh(Scanner, scanner.id).last_seen_session_id == "q1"
    assert sorted(o.session_id for o in harness.observations(scanner)) == ["q0", "q1"]


def test_a_google_scanner_without_a_key_is_not_swept(sightline_home, database_url, monkeypatch):
    harness = Harness(monkeypatch, database_url)
    try:
        scanner = harness.scanner(provider="google", scanner_config={"prompt": "Did the payment fail?"})
        monkeypatch.delenv("GEMINI_API_KEY")
        get_settings.cache_clear()
        harness.scheduler.deps = dataclasses.replace(harness.deps, settings=get_settings())
        now = datetime.now(UTC)
        harness.record("k", now - SETTLE + timedelta(minutes=1))
        report = harness.tick(now + timedelta(minutes=2))
        assert report.swept[0]["stopped"] == "no_provider" and report.enqueued == 0
        assert harness.observations(scanner) == []
    finally:
        harness.close()


def _action(harness: Harness, scanner: Scanner, rule: str, created: datetime, **fields) -> VisionAction:
    with session_scope(harness.db.sessions) as session:
        action = VisionAction(
            team_id=harness.team_id,
            scanner_id=scanner.id,
            name=f"a-{uuid.uuid4().hex[:6]}",
            trigger_config={"rrule": rule, "timezone": "Europe/Prague"},
            created_at=created,
            **fields,
        )
        session.add(action)
        return action


def test_a_due_action_is_claimed_once_and_missed_occurrences_are_not_replayed(harness):
    scanner = harness.scanner(enabled=False)  # actions fire whether or not their scanner is enabled
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    action = _action(harness, scanner, "FREQ=HOURLY;BYMINUTE=0", created)
    now = datetime(2026, 11, 22, 9, 20, tzinfo=UTC)
    assert harness.tick(now).actions["scheduled"] == 1
    first_due = as_utc(harness.fresh(VisionAction, action.id).next_run_at)
    assert first_due == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    # The scheduler was down for five hours: one run for the occurrence it claims, none for the rest.
    late = datetime(2026, 11, 22, 15, 7, tzinfo=UTC)
    assert harness.tick(late).actions["claimed"] == 1
    assert harness.tick(late + timedelta(seconds=10)).actions["claimed"] == 0
    with harness.db.sessions() as session:
        runs = list(session.exec(select(ActionRun)))
    assert [(as_utc(run.scheduled_at), run.status) for run in runs] == [(first_due, ActionRunStatus.RUNNING)]
    fresh = harness.fresh(VisionAction, action.id)
    assert as_utc(fresh.next_run_at) == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert as_utc(fresh.last_run_at) == first_due
    assert harness.queued("actions") == 1


def test_two_schedulers_racing_for_one_occurrence_claim_it_once(harness):
    """The lock is not a fencing token: a stale leader's claim must lose in the database."""
    scanner = harness.scanner()
    due_at = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    action = _action(
        harness,
        scanner,
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=0",
        datetime(2026, 1, 1, tzinfo=UTC),
        next_run_at=due_at,
    )
    upcoming = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    now = due_at + timedelta(seconds=5)
    first = claim_occurrence(harness.deps, action.id, due_at, upcoming, now=now)
    second = claim_occurrence(harness.deps, action.id, due_at, upcoming, now=now)
    assert first is not None and second is None
    with harness.db.sessions() as session:
        assert len(list(session.exec(select(ActionRun).where(ActionRun.action_id == action.id)))) == 1


def _observation(harness: Harness, scanner: Scanner, session_id: str, **fields) -> Observation:
    with session_scope(harness.db.sessions) as session:
        row = Observation(
            team_id=harness.team_id,
            scanner_id=scanner.id,
            session_id=session_id,
            workflow_id=f"observe-{scanner.id}-{session_id}",
            **fields,
        )
        session.add(row)
        return row


def test_a_queued_pending_row_is_left_alone_and_a_lost_one_is_resent_then_orphaned(harness):
    scanner = harness.scanner(enabled=False)
    now = datetime.now(UTC)
    redis_kept(harness.deps, now)  # not a first tick, nor one after Redis lost its data
    old = now - timedelta(minutes=11)
    waiting = _observation(harness, scanner, "waiting", created_at=old, last_sent_at=old, send_count=1)
    harness.deps.sender().send(OBSERVE, str(waiting.id))  # still in the queue: waiting, not lost
    lost = _observation(harness, scanner, "lost", created_at=old, last_sent_at=old, send_count=1)
    spent = _observation(harness, scanner, "spent", created_at=old, last_sent_at=old, send_count=3)
    fresh = _observation(harness, scanner, "fresh", created_at=now, last_sent_at=now, send_count=1)
    reaped = harness.tick(now).reaped
    assert reaped["resent"] == 1 and reaped["orphaned_pending"] == 1
    assert harness.fresh(Observation, waiting.id).send_count == 1
    assert harness.fresh(Observation, lost.id).send_count == 2
    assert harness.fresh(Observation, fresh.id).send_count == 1
    gone = harness.fresh(Observation, spent.id)
    assert gone.status == ObservationStatus.FAILED and gone.error_reason.startswith("orphaned:")
    assert harness.queued("observe") == 2  # the waiting one and the re-sent one
    assert harness.tick(now + timedelta(seconds=10)).reaped["resent"] == 0  # progress was just made


def test_a_running_row_whose_lease_lapsed_is_sent_again_and_a_live_one_is_left_alone(harness):
    scanner = harness.scanner(enabled=False)
    now = datetime.now(UTC)
    running = {"status": ObservationStatus.RUNNING, "started_at": now - timedelta(minutes=3), "attempts": 1}
    crashed = _observation(harness, scanner, "crashed", lease_until=now - timedelta(seconds=1), **running)
    busy = _observation(harness, scanner, "busy", lease_until=now + timedelta(seconds=60), **running)
    assert harness.tick(now).reaped["taken_over"] == 1
    row = harness.fresh(Observation, crashed.id)
    assert (row.status, row.takeovers, row.completed_at) == (ObservationStatus.PENDING, 1, None)
    assert harness.queued("observe") == 1
    assert harness.fresh(Observation, busy.id).status == ObservationStatus.RUNNING


def test_a_run_stuck_for_two_hours_fails_and_a_recent_one_stays_running(harness):
    scanner = harness.scanner()
    action = _action(harness, scanner, "FREQ=DAILY", datetime(2026, 1, 1, tzinfo=UTC))
    now = datetime.now(UTC)
    with session_scope(harness.db.sessions) as session:
        stuck = ActionRun(
            action_id=action.id, scheduled_at=now - timedelta(hours=3), started_at=now - timedelta(hours=3)
        )
        recent = ActionRun(
            action_id=action.id, scheduled_at=now - timedelta(hours=1), started_at=now - timedelta(hours=1)
        )
        session.add_all([stuck, recent])
    assert harness.tick(now).reaped["failed_runs"] == 1
    assert harness.fresh(ActionRun, stuck.id).status == ActionRunStatus.FAILED
    assert harness.fresh(ActionRun, recent.id).status == ActionRunStatus.RUNNING


def test_teams_with_ungrouped_signals_are_kicked_at_most_every_15_s_unless_paused(harness):
    now = datetime.now(UTC)
    with session_scope(harness.db.sessions) as session:
        session.add(
            Signal(
                team_id=harness.team_id,
                source_product="replay_vision",
                source_type="scanner_finding",
                source_id="observation:x:0",
                description="Rage clicks on Pay",
                weight=0.5,
            )
        )
    assert harness.tick(now).reaped["kicked"] == 1
    assert harness.tick(now + timedelta(seconds=10)).reaped["kicked"] == 0
    assert harness.queued("signals") == 1
    with session_scope(harness.db.sessions) as session:
        session.add(ProcessingState(team_id=harness.team_id, paused_until=now + timedelta(days=1)))
    harness.client.delete(
        f"{harness.settings.redis_namespace}:sightline:kick:group_signals:{harness.team_id}"
    )
    assert harness.tick(now + timedelta(seconds=20)).reaped["kicked"] == 0


def test_one_leader_at_a_time_and_a_lost_lock_stops_the_leader(harness):
    namespace = harness.settings.redis_namespace
    first = Leadership(harness.client, namespace, 5, who="first")
    second = Leadership(harness.client, namespace, 5, who="second")
    assert first.hold() and not second.hold()
    assert first.current()["who"] == "first"
    harness.client.delete(first.key)  # the lock expired while the leader was paused
    assert second.hold()
    assert not first.hold()  # it notices at its next extension and stops acting
    assert second.current()["who"] == "second"
    follower = Scheduler(harness.deps, first)
    report = follower.tick(datetime.now(UTC))
    assert not report.leader and report.swept == [] and report.actions == {}
    second.step_down()
    assert first.hold()


def test_a_pending_row_whose_message_was_lost_is_resent_and_completes(world):
    """With a real worker: the row exists, its message never reached Redis; the reaper sends it."""
    from services.observations import request_observations

    scanner = world.scanner(**MONITOR)
    session_id = world.scenarios["checkout-js-error"].session_id
    with session_scope(world.db.sessions) as session:
        fresh = session.get(Scanner, scanner.id)
        (outcome,) = request_observations(
            session, fresh, [session_id], settings=world.settings, now=datetime.now(UTC)
        )
        row = session.get(Observation, outcome.observation_id)
        row.created_at = row.last_sent_at = datetime.now(UTC) - timedelta(minutes=11)
    scheduler = Scheduler(world.deps)
    assert scheduler.tick(datetime.now(UTC)).reaped["resent"] == 1
    world.drain()
    done = world.observation(outcome.observation_id)
    assert done.status == ObservationStatus.SUCCEEDED and done.result_verdict == "yes"
    assert done.send_count == 2


def test_a_leader_that_loses_its_lock_mid_tick_stops_acting_at_once(harness, monkeypatch):
    import scheduler.daemon as daemon
    from services.reapers import ReapOutcome

    scanner = harness.scanner()
    with session_scope(harness.db.sessions) as session:
        session.get(Scanner, scanner.id).estimated_at = None  # the last stage would refresh it

    def reap_then_lose_the_lock(*args, **kwargs):
        harness.client.delete(harness.scheduler.leadership.key)  # expired during a long pause
        return ReapOutcome()

    monkeypatch.setattr(daemon, "reap", reap_then_lose_the_lock)
    report = harness.tick(datetime.now(UTC))
    assert report.leader and report.lost_leadership and report.estimated == 0
    assert harness.fresh(Scanner, scanner.id).estimated_at is None
    assert not harness.scheduler.leadership.leading


def test_a_stranded_in_progress_report_is_failed(harness):
    from models import SignalReport

    now = datetime.now(UTC)
    with session_scope(harness.db.sessions) as session:
        stranded = SignalReport(
            team_id=harness.team_id, status="in_progress", last_run_at=now - timedelta(hours=2)
        )
        running = SignalReport(
            team_id=harness.team_id, status="in_progress", last_run_at=now - timedelta(minutes=5)
        )
        session.add_all([stranded, running])
    assert harness.tick(now).reaped["stranded_reports"] == 1
    failed = harness.fresh(SignalReport, stranded.id)
    assert failed.status == "failed" and failed.error == "research_run_stranded"
    assert harness.fresh(SignalReport, running.id).status == "in_progress"


def test_lost_run_and_delivery_messages_are_sent_again_and_endless_deliveries_fail(harness):
    from models import Delivery

    scanner = harness.scanner()
    action = _action(harness, scanner, "FREQ=DAILY", datetime(2026, 1, 1, tzinfo=UTC))
    now = datetime.now(UTC)
    old = now - timedelta(minutes=15)
    with session_scope(harness.db.sessions) as session:
        lost_run = ActionRun(action_id=action.id, scheduled_at=old, started_at=old, updated_at=old)
        busy_run = ActionRun(action_id=action.id, scheduled_at=now, started_at=now, updated_at=now)
        session.add_all([lost_run, busy_run])
        session.flush()
        lost = Delivery(action_run_id=lost_run.id, target="log", updated_at=old, attempts=1)
        hopeless = Delivery(action_run_id=busy_run.id, target="log", updated_at=old, attempts=8)
        session.add_all([lost, hopeless])
    reaped = harness.tick(now).reaped
    assert (reaped["resent_runs"], reaped["resent_deliveries"], reaped["failed_deliveries"]) == (1, 1, 1)
    assert harness.queued("actions") == 1 and harness.queued("deliver") == 1
    assert harness.fresh(Delivery, hopeless.id).status == "failed"
    again = harness.tick(now + timedelta(seconds=10)).reaped
    assert (again["resent_runs"], again["resent_deliveries"]) == (0, 0)  # progress was just recorded


def test_a_session_arriving_after_the_watermark_passed_its_end_is_still_swept(harness):
    scanner = harness.scanner()
    now = datetime.now(UTC)
    harness.record(
        "on-time", now - SETTLE - timedelta(minutes=1), ingested=now - SETTLE + timedelta(minutes=1)
    )
    first = now + timedelta(minutes=6)
    assert harness.tick(first).enqueued == 1
    swept_to = as_utc(harness.fresh(Scanner, scanner.id).last_swept_at)
    # An export from last week lands now: it ended long before the watermark, but settles after it.
    harness.record("old-export", now - timedelta(days=7), ingested=first)
    assert harness.status_row(scanner)["unswept"] == 0  # not settled yet
    later = first + SETTLE + timedelta(minutes=6)
    assert harness.status_row(scanner, later)["unswept"] == 1
    assert harness.tick(later).enqueued == 1
    assert sorted(o.session_id for o in harness.observations(scanner)) == ["old-export", "on-time"]
    assert as_utc(harness.fresh(Scanner, scanner.id).last_swept_at) > swept_to
