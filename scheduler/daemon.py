"""The tick loop: lead, sweep the due scanners, claim due actions, poll recording sources, reap,
apply retention, refresh estimates, queue new observations for enabled evaluations, claim due scout runs.

`Scheduler.tick(now)` is one pass and returns what it did (tests and `--once` call it directly);
`Scheduler.run(stop)` ticks every `SIGHTLINE_SCHEDULER_TICK_S` until `stop` is set, further apart
while Redis does not answer (one warning when it goes, one info when it is back), and between ticks
tops up scanners with a backlog every second (`Scheduler.top_up`), so a backlog drains at the
workers' speed rather than a tick's worth at a time. Each stage is
one use case. Leadership is checked before each stage and every few scanners, so a leader that
loses its lock stops acting within one stage. The last tick's report is kept in Redis for `status`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime

import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from integrations.leadership import Leadership, write_last_tick
from pipeline.sweep import BACKLOG_STOPS
from services.action_runs import claim_due_actions
from services.context import Deps
from services.evaluation_runs import enqueue_new
from services.ingest import merge_stale
from services.ops import sample_queues
from services.reapers import reap
from services.retention import apply_retention
from services.scout_runs import claim_due_scouts
from services.sources import poll_due_sources
from services.sweeps import refresh_stale_estimates, sweep_due, top_up

log = structlog.get_logger(__name__)
LEADERSHIP_CHECK_EVERY = 20  # scanners between two lock extensions within one sweep stage
ESTIMATES_PER_TICK = 2
REDIS_BACKOFF_MAX_S = 30.0  # the longest wait between two ticks while Redis does not answer
# Between two ticks, while some scanner has a backlog, its free headroom is topped up this often
# (the workers finish a tick's worth of observations long before the next tick: a worker process
# observes several hundred a second with heuristic scanners), or, when a top-up pass itself takes
# long (many backlogged scanners), after twice its duration: top-ups take at most a third of the
# scheduler's time.
TOP_UP_EVERY_S = 0.2


@dataclass
class TickReport:
    at: str
    leader: bool
    duration_ms: float = 0.0
    swept: list[dict] = field(default_factory=list)
    enqueued: int = 0
    actions: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)
    merges: int = 0  # live sessions whose waiting batches the workers were asked to merge
    reaped: dict = field(default_factory=dict)
    retention: dict = field(default_factory=dict)
    estimated: int = 0
    evaluations: dict = field(default_factory=dict)  # results queued for enabled evaluations
    scouts: dict = field(default_factory=dict)  # scout runs claimed and sent, and those past the limits
    lost_leadership: bool = False


class Scheduler:
    def __init__(self, deps: Deps, leadership: Leadership | None = None):
        self.deps = deps
        settings = deps.settings
        self.leadership = leadership or Leadership(
            deps.redis(), settings.redis_namespace, settings.leader_ttl_s
        )

    def tick(self, now: datetime | None = None) -> TickReport:
        began = time.monotonic()
        now = now or self.deps.now()
        report = TickReport(at=now.isoformat(), leader=self.leadership.hold())
        if report.leader:
            try:
                self._work(now, report)
            except _LostLeadership:
                report.lost_leadership = True
        report.duration_ms = round((time.monotonic() - began) * 1000, 1)
        if report.leader:
            write_last_tick(self.deps.redis(), self.deps.settings.redis_namespace, asdict(report))
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

    def top_up(self, now: datetime | None = None) -> bool:
        """One top-up pass between ticks (`services.sweeps.top_up`) when this process leads; whether
        some scanner still had a backlog, so another pass is worth making."""
        if not self.leadership.hold():
            return False
        try:
            done = top_up(self.deps, now=now or self.deps.now(), check=self._still_leading)
        except _LostLeadership:
            return False
        enqueued = sum(outcome.enqueued for outcome in done.outcomes)
        if enqueued:
            log.info(
                "scheduler_top_up", swept=len(done.outcomes), enqueued=enqueued, backlogged=done.backlogged
            )
        return done.backlogged > 0

    def _still_leading(self) -> None:
        if not self.leadership.hold():
            raise _LostLeadership

    def _work(self, now: datetime, report: TickReport) -> None:
        for outcome in sweep_due(
            self.deps, now=now, check=self._still_leading, check_every=LEADERSHIP_CHECK_EVERY
        ):
            report.swept.append(asdict(outcome))
            report.enqueued += outcome.enqueued
        self._still_leading()
        report.actions = asdict(claim_due_actions(self.deps, now=now))
        self._still_leading()
        report.sources = asdict(poll_due_sources(self.deps, now=now))
        report.merges = merge_stale(self.deps, now=now)
        self._still_leading()
        report.reaped = asdict(reap(self.deps, now=now))
        self._still_leading()
        report.retention = asdict(apply_retention(self.deps, now=now))
        self._still_leading()
        report.estimated = refresh_stale_estimates(self.deps, now=now, limit=ESTIMATES_PER_TICK)
        self._still_leading()
        report.evaluations = asdict(enqueue_new(self.deps, now=now))
        self._still_leading()
        report.scouts = asdict(claim_due_scouts(self.deps, now=now))
        sample_queues(self.deps, now=now)

    def run(self, stop: threading.Event, *, once: bool = False) -> None:
        """Tick until `stop` is set (or once); a failed tick is logged and the loop goes on. While
        Redis does not answer, the ticks back off (`_Outage`) and are not logged as failures.
        Between ticks, backlogged scanners are topped up every TOP_UP_EVERY_S."""
        outage = _Outage(self.deps.settings.scheduler_tick_s)
        try:
            while not stop.is_set():
                began = time.monotonic()
                wait, backlog = self.deps.settings.scheduler_tick_s, False
                try:
                    report = self.tick()
                    backlog = any(swept["stopped"] in BACKLOG_STOPS for swept in report.swept)
                    outage.over()
                except Exception as exc:
                    if not redis_unreachable(exc):
                        log.exception("scheduler_tick_failed")
                    else:
                        wait = outage.failed(exc)
                if once:
                    break
                self._between_ticks(stop, began + wait, backlog)
        finally:
            with contextlib.suppress(RedisConnectionError, RedisTimeoutError):  # down: its lock expires
                self.leadership.step_down()

    def _between_ticks(self, stop: threading.Event, next_tick: float, backlog: bool) -> None:
        """Wait for the next tick, topping up backlogged scanners meanwhile (a failed pass waits)."""
        wait = TOP_UP_EVERY_S
        while backlog and time.monotonic() + wait < next_tick:
            if stop.wait(wait):
                return
            began = time.monotonic()
            try:
                backlog = self.top_up()
            except Exception as exc:
                if not redis_unreachable(exc):
                    log.exception("scheduler_top_up_failed")
                backlog = False
            wait = max(TOP_UP_EVERY_S, 2 * (time.monotonic() - began))
        stop.wait(max(0.0, next_tick - time.monotonic()))


class _LostLeadership(Exception):
    """Raised inside a tick when the lock was lost: the tick stops acting at once."""


def redis_unreachable(exc: BaseException) -> bool:
    """Whether `exc` (or what it was raised from) is Redis not answering: refused, reset, timed out."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, RedisConnectionError | RedisTimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _Outage:
    """Redis not answering, as the run loop sees it: one warning when ticks start failing, repeats at
    DEBUG, ticks further apart each time (doubling from the tick interval up to REDIS_BACKOFF_MAX_S),
    and one info when a tick succeeds again."""

    def __init__(self, tick_s: float):
        self.tick_s = tick_s
        self.failures = 0
        self.since = 0.0

    def failed(self, exc: BaseException) -> float:
        """Note a tick that failed for want of Redis; the seconds to wait before the next one."""
        self.failures += 1
        wait = min(max(REDIS_BACKOFF_MAX_S, self.tick_s), self.tick_s * 2 ** min(self.failures - 1, 20))
        error = f"{type(exc).__name__}: {exc}"
        if self.failures == 1:
            self.since = time.monotonic()
            log.warning("redis_unavailable", error=error, retry_in_s=wait)
        else:
            log.debug("redis_still_unavailable", error=error, failures=self.failures, retry_in_s=wait)
        return wait

    def over(self) -> None:
        """Note a tick that succeeded."""
        if self.failures:
            down_s = round(time.monotonic() - self.since, 1)
            log.info("redis_available_again", failed_ticks=self.failures, down_s=down_s)
        self.failures = 0
