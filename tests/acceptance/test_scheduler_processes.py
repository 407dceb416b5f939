"""Two `sightline scheduler` processes on one real Redis: one leads at a time, a killed leader is
replaced within the lock TTL, and nothing is enqueued or claimed twice.

Sessions keep arriving while the first leads with the second waiting beside it, while the second
takes over after the first is killed, and until the survivor has swept every one of them.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from integrations.embedded_redis import EmbeddedRedis
from tests.acceptance.processes import CLI, ROOT, sightline_env, wait_until

pytestmark = pytest.mark.acceptance
TTL_S = 3.0
TICK_S = 0.5
ARRIVAL_S = 0.5  # two sessions arrive this often
SWEEP_INTERVAL_S = 2


class LogReader(threading.Thread):
    """Collects one process's JSON log lines (stderr) with the time each was read."""

    def __init__(self, name: str, process: subprocess.Popen):
        super().__init__(daemon=True)
        self.name, self.process, self.events = name, process, []

    def run(self) -> None:
        for line in self.process.stderr:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            entry["_read_at"] = time.monotonic()
            self.events.append(entry)

    def times(self, event: str) -> list[float]:
        return [e["_read_at"] for e in self.events if e.get("event") == event]


class Arrivals:
    """Recordings arriving in the database the schedulers sweep."""

    def __init__(self, db, team_id: int):
        self.db, self.team_id, self.recorded = db, team_id, 0

    def record(self, count: int) -> None:
        from models import Recording, session_scope

        now = datetime.now(UTC) - timedelta(seconds=1)
        with session_scope(self.db.sessions) as session:
            for _ in range(count):
                session.add(
                    Recording(
                        team_id=self.team_id,
                        session_id=f"s-{self.recorded:04}",
                        start_time=now - timedelta(minutes=1),
                        end_time=now,
                        duration_s=60,
                        active_s=30,
                        event_count=20,
                        urls=["https://a.example/"],
                        blob_ref="unused",
                        last_ingested_at=now,
                    )
                )
                self.recorded += 1

    def until(self, condition, timeout: float, what: str) -> None:
        """Two sessions arrive every ARRIVAL_S until `condition` holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not happen within {timeout:g} s")
            self.record(2)
            time.sleep(ARRIVAL_S)

    def count(self, model) -> int:
        with self.db.sessions() as session:
            return session.exec(select(func.count()).select_from(model)).one()


def start_scheduler(env: dict[str, str], name: str) -> LogReader:
    process = subprocess.Popen(
        [*CLI, "scheduler"], env=env, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    reader = LogReader(name, process)
    reader.start()
    return reader


def test_two_schedulers_one_leader_fast_handover_nothing_twice(tmp_path):
    home = tmp_path / "home"
    redis_server = EmbeddedRedis(tmp_path / "redis")
    env = sightline_env(home)
    namespace = f"acc-{uuid.uuid4().hex[:6]}"
    env.update(
        REDIS_URL=redis_server.url,
        SIGHTLINE_REDIS_NAMESPACE=namespace,
        SIGHTLINE_SETTLE_S="0",
        SIGHTLINE_SCHEDULER_TICK_S=str(TICK_S),
        SIGHTLINE_LEADER_TTL_S=str(TTL_S),
        SIGHTLINE_SWEEP_INTERVAL_S=str(SWEEP_INTERVAL_S),
        SIGHTLINE_LOG_LEVEL="INFO",
    )
    for args in (["init"], ["apply", "examples/heuristic-scanners.yaml"]):
        subprocess.run([*CLI, *args], env=env, cwd=ROOT, check=True, capture_output=True)

    from integrations.storage import database
    from models import ActionRun, Observation, Scanner, VisionAction, session_scope
    from settings import Settings

    db = database(Settings(SIGHTLINE_HOME=home, DATABASE_URL=None))
    with session_scope(db.sessions) as session:
        scanners = list(session.exec(select(Scanner)))
        session.add(
            VisionAction(
                team_id=scanners[0].team_id,
                scanner_id=scanners[0].id,
                name="every minute",
                trigger_config={"rrule": "FREQ=MINUTELY", "timezone": "UTC"},
                next_run_at=datetime.now(UTC) + timedelta(seconds=3),
            )
        )
    arrivals = Arrivals(db, scanners[0].team_id)

    first = start_scheduler(env, "first")
    wait_until(lambda: first.times("scheduler_leading"), 30, "the first scheduler leading")
    second = start_scheduler(env, "second")
    try:

        def first_led_beside_the_second() -> bool:
            """A whole sweep interval of the first's ticks with the second up, a sweep and the action."""
            started = second.times("scheduler_started")
            ticks = [t for t in first.times("scheduler_tick") if started and t > started[0]]
            return (
                len(ticks) >= SWEEP_INTERVAL_S / TICK_S
                and arrivals.count(Observation) > 0
                and arrivals.count(ActionRun) > 0
            )

        arrivals.until(first_led_beside_the_second, 30, "the first leading beside the second")
        first.process.send_signal(signal.SIGKILL)  # a crash: the lock is not released
        killed_at = time.monotonic()
        first.process.wait(timeout=10)
        arrivals.until(lambda: second.times("scheduler_tick"), 30, "the second taking over")
        taken_over = arrivals.recorded
        arrivals.until(
            lambda: arrivals.recorded - taken_over >= 4, 30, "sessions arriving after the handover"
        )
        wait_until(
            lambda: arrivals.count(Observation) >= arrivals.recorded * len(scanners),
            30,
            "the survivor sweeping every session",
        )
    finally:
        for reader in (first, second):
            if reader.process.poll() is None:
                reader.process.send_signal(signal.SIGTERM)
        for reader in (first, second):
            reader.process.wait(timeout=30)
        for reader in (first, second):
            reader.join(timeout=5)

    assert second.process.returncode == 0 and second.times("scheduler_stopped")  # SIGTERM: a clean exit
    first_ticks, second_ticks = first.times("scheduler_tick"), second.times("scheduler_tick")
    assert first_ticks and second_ticks
    assert max(first_ticks) < min(second_ticks), "both schedulers ticked in the same period"
    assert second.times("scheduler_leading")
    handover = min(second_ticks) - killed_at
    assert handover <= TTL_S + 2 * TICK_S + 1.0, f"handover took {handover:.1f} s"

    client = redis_server.client()
    with db.sessions() as session:
        observations = list(session.exec(select(Observation)))
        runs = list(session.exec(select(ActionRun)))
    assert len(observations) == arrivals.recorded * len(scanners)  # every recording, every scanner, once
    assert Counter((o.scanner_id, o.session_id) for o in observations).most_common(1)[0][1] == 1
    messages = Counter(  # an observe_batch message carries several ids
        each
        for raw in client.hvals(f"{namespace}:observe.msgs")
        for first in json.loads(raw)["args"][:1]
        for each in (first if isinstance(first, list) else [first])
    )
    assert messages and max(messages.values()) == 1, "an observation was sent twice"
    # A leader killed between committing rows and sending them leaves rows without a message (the
    # pending reaper re-sends those after 10 minutes): at most one sweep's worth, never a duplicate.
    assert len(observations) - len(messages) <= 2 * len(scanners)
    assert runs, "the every-minute action never ran"
    assert len({run.scheduled_at for run in runs}) == len(runs)
    assert client.llen(f"{namespace}:actions") == len(runs)
    redis_server.stop()
