"""The tick loop: lead, sweep the due scanners, claim due actions, reap, refresh estimates.

`Scheduler.tick(now)` is one pass and returns what it did (tests and `--once` call it directly);
`Scheduler.run(stop)` ticks every `SIGHTLINE_SCHEDULER_TICK_S` until `stop` is set. Leadership is
checked before each stage and every few scanners, so a leader that loses its lock stops acting
within one stage. The last tick's report is kept in Redis for `sightline status`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import redis
import structlog

from integrations.estimates import refresh_estimate
from models import session_scope
from models.scheduler_queries import enabled_scanners, stale_estimates
from scheduler.actions import ActionOutcome, run_due_actions
from scheduler.dispatch import Dispatcher
from scheduler.leader import Leadership
from scheduler.reapers import ReapOutcome, reap
from scheduler.sweeps import SweepOutcome, TeamCandidates, due, sweep, watermark_of
from settings import Settings

log = structlog.get_logger(__name__)
LEADERSHIP_CHECK_EVERY = 20  # scanners between two lock extensions within one sweep stage
ESTIMATES_PER_TICK = 2


@dataclass
class TickReport:
    at: str
    leader: bool
    duration_ms: float = 0.0
    swept: list[dict] = field(default_factory=list)
    enqueued: int = 0
    actions: dict = field(default_factory=dict)
    reaped: dict = field(default_factory=dict)
    estimated: int = 0
    lost_leadership: bool = False


def last_tick_key(namespace: str) -> str:
    return f"{namespace}:sightline:scheduler:last_tick"


class Scheduler:
    def __init__(
        self, settings: Settings, sessions, broker, client: redis.Redis, leadership: Leadership | None = None
    ):
        self.settings = settings
        self.sessions = sessions
        self.client = client
        self.dispatcher = Dispatcher(broker)
        self.leadership = leadership or Leadership(client, settings.redis_namespace, settings.leader_ttl_s)

    def tick(self, now: datetime | None = None) -> TickReport:
        began = time.monotonic()
        now = now or datetime.now(UTC)
        report = TickReport(at=now.isoformat(), leader=self.leadership.hold())
        if report.leader:
            try:
                self._work(now, report)
            except _LostLeadership:
                report.lost_leadership = True
        report.duration_ms = round((time.monotonic() - began) * 1000, 1)
        if report.leader:
            self.client.set(
                last_tick_key(self.settings.redis_namespace), json.dumps(asdict(report)), ex=86_400
            )
            log.info(
                "scheduler_tick",
                swept=len(report.swept),
                enqueued=report.enqueued,
                claimed=report.actions.get("claimed", 0),
                reaped=sum(report.reaped.values()) if report.reaped else 0,
                estimated=report.estimated,
                duration_ms=report.duration_ms,
                lost_leadership=report.lost_leadership,
            )
        return report

    def _still_leading(self) -> None:
        if not self.leadership.hold():
            raise _LostLeadership

    def _work(self, now: datetime, report: TickReport) -> None:
        for outcome in self._sweeps(now):
            report.swept.append(asdict(outcome))
            report.enqueued += outcome.enqueued
        self._still_leading()
        actions: ActionOutcome = run_due_actions(self.sessions, self.dispatcher, now)
        report.actions = asdict(actions)
        self._still_leading()
        reaped: ReapOutcome = reap(self.sessions, self.dispatcher, self.client, self.settings, now)
        report.reaped = asdict(reaped)
        self._still_leading()
        report.estimated = self._estimates(now)

    def _sweeps(self, now: datetime):
        interval = self.settings.sweep_interval_s
        cutoff = now - timedelta(seconds=self.settings.settle_s)
        with self.sessions() as session:
            scanners = list(enabled_scanners(session))
            for scanner in scanners:
                session.expunge(scanner)
        by_team: dict[int, list] = defaultdict(list)
        for scanner in scanners:
            slot = due(scanner, now, interval)
            if slot is not None:
                by_team[scanner.team_id].append((scanner, slot))
        done = 0
        for team_id, members in by_team.items():
            members.sort(key=lambda item: watermark_of(item[0], cutoff))
            with self.sessions() as session:
                candidates = TeamCandidates(session, team_id, watermark_of(members[0][0], cutoff), cutoff)
                for scanner, slot in members:
                    if done and done % LEADERSHIP_CHECK_EVERY == 0:
                        self._still_leading()
                    done += 1
                    try:
                        outcome: SweepOutcome | None = sweep(
                            self.sessions, scanner, slot, candidates, self.dispatcher, self.settings, now
                        )
                    except Exception:  # one broken scanner must not stop the others, or the tick
                        log.exception("sweep_failed", scanner=scanner.name, scanner_id=str(scanner.id))
                        continue
                    if outcome is not None:
                        yield outcome

    def _estimates(self, now: datetime) -> int:
        before = now - timedelta(seconds=self.settings.estimate_max_age_s)
        with session_scope(self.sessions) as session:
            stale = stale_estimates(session, before, ESTIMATES_PER_TICK)
            for scanner in stale:
                refresh_estimate(session, scanner, now)
            return len(stale)

    def run(self, stop: threading.Event, *, once: bool = False) -> None:
        """Tick until `stop` is set (or once); a failed tick is logged and the loop goes on."""
        try:
            while not stop.is_set():
                began = time.monotonic()
                try:
                    self.tick()
                except Exception:
                    log.exception("scheduler_tick_failed")
                if once:
                    break
                stop.wait(max(0.0, self.settings.scheduler_tick_s - (time.monotonic() - began)))
        finally:
            self.leadership.step_down()


class _LostLeadership(Exception):
    """Raised inside a tick when the lock was lost: the tick stops acting at once."""


def describe_last_tick(client: redis.Redis, namespace: str) -> dict | None:
    raw = client.get(last_tick_key(namespace))
    return json.loads(raw) if raw else None
