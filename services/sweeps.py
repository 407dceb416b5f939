"""Sweeps (DESIGN §6): each enabled scanner, once per sweep slot, takes the new settled recordings
its query, eligibility and sample want, within headroom and quota, and sends them to the workers.
A scanner whose last sweep left recordings behind (it stopped "full" or "walked") is topped up on
the next tick into its free headroom instead of waiting for its next slot, so a backlog drains at
the workers' speed rather than 150 sessions per 5 minutes.

Order of writes, so that a crash anywhere loses nothing and repeats nothing: (1) claim the slot (or
the top-up), (2) insert the pending rows and commit, (3) send their ids, (4) advance the watermark,
record why the sweep stopped and release the claim. A crash after (2) leaves rows the pending reaper
re-sends; a crash after (3) makes the next sweep walk the same recordings again, and the unique
(scanner, session) key skips them; a claim never released lapses after SWEEP_LEASE_S.

Two schedulers that both think they lead never sweep one scanner at once: each claim is a
conditional update that also requires that no other sweep holds the scanner (`sweeping_until`).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import structlog
from sqlmodel import Session

from models import Observation, ObservationStatus, Scanner, TriggeredBy, as_utc
from models.scheduler_queries import (
    candidates_after,
    claim_sweep,
    claim_top_up,
    enabled_scanners,
    finish_sweep,
    in_flight_by,
    insert_pending,
    stale_estimates,
)
from pipeline.errors import ConfigurationError
from pipeline.limits import headroom
from pipeline.sampling import sweep_slot
from pipeline.sweep import (
    BACKLOG_STOPS,
    Backlogged,
    Candidate,
    SweepPlan,
    Watermark,
    plan_sweep,
    share_top_ups,
)
from services.budget import affordable, require_provider, room
from services.context import Deps
from services.estimates import refresh_estimate
from services.observe import dispatch
from services.prompts import frozen_snapshot

log = structlog.get_logger(__name__)
PAGE = 1000
ESTIMATES_PER_TICK = 2
# Top-ups of one tick enqueue at most this many sessions in all, in shares of at least TOP_UP_LEAST.
TOP_UP_PER_TICK = 1000
TOP_UP_LEAST = 50
# A sweep holds its scanner this long at most (it lets go when it finishes): a scheduler that died
# mid-sweep does not keep the scanner from being swept for longer.
SWEEP_LEASE_S = 60


@dataclass
class SweepOutcome:
    scanner_id: str
    name: str
    examined: int = 0
    enqueued: int = 0
    stopped: str = ""  # "", "unsettled", "full", "walked", "budget", "no_provider"
    limit: int = 0
    top_up: bool = False  # a top-up of a backlog rather than the scanner's slot


@dataclass(frozen=True)
class Work:
    """One sweep to make: for a slot, or (slot None) a top-up of at most `cap` sessions."""

    scanner: Scanner
    slot: int | None
    cap: int | None = None


class TeamCandidates:
    """One team's settled recordings after a starting watermark, read page by page once per tick.

    Every due scanner of the team walks the same list from its own watermark, so a tick with 200
    scanners reads the new recordings once, not 200 times.
    """

    def __init__(self, session: Session, team_id: int, start: Watermark, cutoff: datetime):
        self.session, self.team_id, self.cutoff = session, team_id, cutoff
        self.rows: list = []
        self.keys: list[Watermark] = []
        self.next_after = start
        self.exhausted = False
        self.reads = 0

    def _more(self) -> bool:
        if self.exhausted:
            return False
        page = candidates_after(self.session, self.team_id, self.next_after, self.cutoff, PAGE)
        self.reads += 1
        if len(page) < PAGE:
            self.exhausted = True
        for row in page:
            values = dict(row._mapping)
            values["end_time"] = as_utc(row.end_time)
            values["last_ingested_at"] = as_utc(row.last_ingested_at)
            self.rows.append(Candidate(**values))
            self.keys.append((values["last_ingested_at"], row.session_id))
        if page:
            self.next_after = self.keys[-1]
        return bool(page)

    def after(self, watermark: Watermark) -> Iterator:
        index = bisect.bisect_right(self.keys, watermark)
        while True:
            while index < len(self.rows):
                yield self.rows[index]
                index += 1
            if not self._more():
                return


def watermark_of(scanner: Scanner, start: datetime) -> Watermark:
    """The scanner's watermark; one never swept starts at `start` (now − settle)."""
    since = as_utc(scanner.last_swept_at)
    return (since, scanner.last_seen_session_id or "") if since is not None else (start, "")


def due(scanner: Scanner, now: datetime, interval_s: int) -> int | None:
    """The slot to claim when this scanner is due at `now`, else None."""
    slot = sweep_slot(str(scanner.id), now.timestamp(), interval_s)
    return slot if scanner.sweep_slot is None or scanner.sweep_slot < slot else None


def sweep_due(
    deps: Deps, *, now: datetime, check: Callable[[], None] = lambda: None, check_every: int = 20
) -> Iterator[SweepOutcome]:
    """Sweep every enabled scanner due at `now` for its slot, then top up the backlogged others
    (`top_up`); one outcome per sweep this process claimed.

    `check()` runs before every `check_every`-th scanner (the scheduler raises from it when it lost
    its lock). A scanner that fails is logged and skipped: it must not stop the others.
    """
    scanners = _enabled(deps)
    interval = deps.settings.sweep_interval_s
    slots = [(scanner, due(scanner, now, interval)) for scanner in scanners]
    work = [Work(scanner, slot) for scanner, slot in slots if slot is not None]
    yield from _sweep_all(deps, work, now=now, check=check, check_every=check_every)
    rest = [scanner for scanner, slot in slots if slot is None]
    yield from top_up(deps, now=now, check=check, check_every=check_every, scanners=rest).outcomes


@dataclass
class TopUps:
    """What a top-up pass did: one outcome per sweep, and how many scanners had a backlog."""

    backlogged: int = 0
    outcomes: list[SweepOutcome] = field(default_factory=list)


def top_up(
    deps: Deps,
    *,
    now: datetime,
    check: Callable[[], None] = lambda: None,
    check_every: int = 20,
    per_tick: int = TOP_UP_PER_TICK,
    scanners: list[Scanner] | None = None,
) -> TopUps:
    """Sweep the scanners whose last sweep left a backlog, into their free in-flight room, without
    waiting for their next slot: at most `per_tick` sessions in all, shared fairly across teams and
    scanners (`pipeline.sweep.share_top_ups`). Each top-up is a sweep like a slot's (same order of
    writes, same caps and budget), claimed with `claim_top_up` instead of a slot.
    """
    enabled = _enabled(deps) if scanners is None else scanners
    waiting = [scanner for scanner in enabled if scanner.sweep_stopped in BACKLOG_STOPS]
    done = TopUps(len(waiting))
    if not waiting:
        return done
    settings = deps.settings
    with deps.read() as session:
        by_scanner = in_flight_by(session, Observation.scanner_id)
        by_team = in_flight_by(session, Observation.team_id)
    backlogged = [
        Backlogged(
            scanner,
            scanner.team_id,
            as_utc(scanner.last_sweep_at) or now,
            headroom(
                by_scanner.get(scanner.id, 0),
                by_team.get(scanner.team_id, 0),
                settings.in_flight_per_scanner,
                settings.in_flight_per_team,
            ),
        )
        for scanner in waiting
    ]
    shares = share_top_ups(backlogged, per_tick=per_tick, least=TOP_UP_LEAST)
    work = [Work(item.key, None, take) for item, take in shares]
    done.outcomes = list(_sweep_all(deps, work, now=now, check=check, check_every=check_every))
    return done


def _sweep_all(
    deps: Deps, work: list[Work], *, now: datetime, check: Callable[[], None], check_every: int
) -> Iterator[SweepOutcome]:
    """Sweep each scanner of `work`, team by team, each team's new recordings read once."""
    cutoff = now - timedelta(seconds=deps.settings.settle_s)
    by_team: dict[int, list[Work]] = defaultdict(list)
    for item in work:
        by_team[item.scanner.team_id].append(item)
    done = 0
    for team_id, members in by_team.items():
        members.sort(key=lambda item: watermark_of(item.scanner, cutoff))
        with deps.read() as session:
            start = watermark_of(members[0].scanner, cutoff)
            candidates = TeamCandidates(session, team_id, start, cutoff)
            for item in members:
                if done and done % check_every == 0:
                    check()
                done += 1
                try:
                    outcome = sweep_scanner(deps, item, candidates, now=now)
                except Exception:
                    scanner = item.scanner
                    log.exception("sweep_failed", scanner=scanner.name, scanner_id=str(scanner.id))
                    continue
                if outcome is not None:
                    yield outcome


def _claim(deps: Deps, work: Work, now: datetime) -> bool:
    """Claim the sweep: its slot, or (a top-up) the backlogged scanner; either holds it for a lease."""
    until = now + timedelta(seconds=SWEEP_LEASE_S)
    with deps.transaction() as session:
        if work.slot is not None:
            return claim_sweep(session, work.scanner.id, work.slot, now, until)
        return claim_top_up(session, work.scanner.id, now, until, BACKLOG_STOPS)


def sweep_scanner(
    deps: Deps, work: Work, candidates: TeamCandidates, *, now: datetime
) -> SweepOutcome | None:
    """Sweep one scanner for its slot or a top-up; None when another scheduler claimed it first."""
    scanner = work.scanner
    outcome = SweepOutcome(str(scanner.id), scanner.name, top_up=work.slot is None)
    if not _claim(deps, work, now):
        return None
    cutoff = now - timedelta(seconds=deps.settings.settle_s)
    old = (as_utc(scanner.last_swept_at), scanner.last_seen_session_id or "")
    start = watermark_of(scanner, cutoff)
    plan = SweepPlan(start)
    try:
        require_provider(scanner, deps.settings)
    except ConfigurationError:
        outcome.stopped = "no_provider"
        log.warning("sweep_skipped_no_provider", scanner=scanner.name)
    else:
        outcome.limit, budget_bound = _limit(deps, scanner, now, work.cap)
        plan = plan_sweep(
            candidates.after(start),
            watermark=start,
            cutoff=cutoff,
            query=scanner.query or {},
            scanner_id=str(scanner.id),
            rate=scanner.sampling_rate,
            limit=outcome.limit,
        )
        outcome.examined = plan.examined
        outcome.stopped = "budget" if plan.stopped == "full" and budget_bound else plan.stopped
        ids = _insert(deps, scanner, plan, now)
        outcome.enqueued = dispatch(deps, scanner.provider, ids)
    with deps.transaction() as session:
        finish_sweep(session, scanner.id, old, plan.watermark, outcome.stopped)
    return outcome


def refresh_stale_estimates(deps: Deps, *, now: datetime, limit: int = ESTIMATES_PER_TICK) -> int:
    """Recompute the monthly estimates older than SIGHTLINE_ESTIMATE_MAX_AGE_S, oldest first; how many."""
    before = now - timedelta(seconds=deps.settings.estimate_max_age_s)
    with deps.transaction() as session:
        stale = stale_estimates(session, before, limit)
        for scanner in stale:
            refresh_estimate(session, scanner, now)
        return len(stale)


def _enabled(deps: Deps) -> list[Scanner]:
    """The enabled scanners, detached from the session (the sweeps outlive it)."""
    with deps.read() as session:
        scanners = list(enabled_scanners(session))
        for scanner in scanners:
            session.expunge(scanner)
    return scanners


def _limit(deps: Deps, scanner: Scanner, now: datetime, cap: int | None) -> tuple[int, bool]:
    """How many this sweep may take: the least of the sweep limit, a top-up's share (`cap`), the
    in-flight room and the budget; and whether the budget is what bounds it."""
    settings = deps.settings
    with deps.read() as session:
        free = room(session, scanner, settings)
        budget = affordable(session, scanner, settings, now)
    others = min(settings.sweep_limit, free, cap if cap is not None else settings.sweep_limit)
    if budget is not None and budget <= others:
        return budget, True
    return others, False


def _insert(deps: Deps, scanner: Scanner, plan: SweepPlan, now: datetime) -> list[UUID]:
    if not plan.chosen:
        return []
    with deps.transaction() as session:
        # Plain column values (building 1,000 model objects costs more than the insert itself).
        common = {
            "team_id": scanner.team_id,
            "scanner_id": scanner.id,
            "status": ObservationStatus.PENDING,
            "scanner_snapshot": frozen_snapshot(session, scanner),  # a prompt_ref resolved now
            "triggered_by": TriggeredBy.SCHEDULE,
            "send_count": 1,
            "last_sent_at": now,
            "created_at": now,
        }
        rows = [
            {
                **common,
                "id": uuid4(),
                "session_id": row.session_id,
                "workflow_id": f"observe-{scanner.id}-{row.session_id}",
            }
            for row in plan.chosen
        ]
        return insert_pending(session, rows)
