"""Sweeps (DESIGN §6): each enabled scanner, once per sweep slot, takes the new settled recordings
its query, eligibility and sample want, within headroom and quota, and sends them to the workers.

Order of writes, so that a crash anywhere loses nothing and repeats nothing: (1) claim the slot,
(2) insert the pending rows and commit, (3) send their ids, (4) advance the watermark. A crash after
(2) leaves rows the pending reaper re-sends; a crash after (3) makes the next sweep walk the same
recordings again, and the unique (scanner, session) key skips them.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import structlog
from sqlmodel import Session

from models import ObservationStatus, Scanner, TriggeredBy, as_utc
from models.scheduler_queries import (
    advance_watermark,
    candidates_after,
    claim_sweep,
    enabled_scanners,
    insert_pending,
    stale_estimates,
)
from pipeline.errors import ConfigurationError
from pipeline.names import OBSERVE
from pipeline.sampling import sweep_slot
from pipeline.scanners import snapshot
from pipeline.sweep import Candidate, SweepPlan, Watermark, plan_sweep
from services.budget import affordable, require_provider, room
from services.context import Deps
from services.estimates import refresh_estimate

log = structlog.get_logger(__name__)
PAGE = 1000
ESTIMATES_PER_TICK = 2


@dataclass
class SweepOutcome:
    scanner_id: str
    name: str
    examined: int = 0
    enqueued: int = 0
    stopped: str = ""  # "", "unsettled", "full", "walked", "no_provider"
    limit: int = 0


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
    """Sweep every enabled scanner due at `now`, team by team; one outcome per slot this process won.

    `check()` runs before every `check_every`-th scanner (the scheduler raises from it when it lost
    its lock). A scanner that fails is logged and skipped: it must not stop the others.
    """
    cutoff = now - timedelta(seconds=deps.settings.settle_s)
    done = 0
    for team_id, members in _due_by_team(deps, now).items():
        members.sort(key=lambda item: watermark_of(item[0], cutoff))
        with deps.read() as session:
            candidates = TeamCandidates(session, team_id, watermark_of(members[0][0], cutoff), cutoff)
            for scanner, slot in members:
                if done and done % check_every == 0:
                    check()
                done += 1
                try:
                    outcome = sweep_scanner(deps, scanner, slot, candidates, now=now)
                except Exception:
                    log.exception("sweep_failed", scanner=scanner.name, scanner_id=str(scanner.id))
                    continue
                if outcome is not None:
                    yield outcome


def sweep_scanner(
    deps: Deps, scanner: Scanner, slot: int, candidates: TeamCandidates, *, now: datetime
) -> SweepOutcome | None:
    """Sweep one scanner for `slot`; None when another scheduler claimed the slot first."""
    outcome = SweepOutcome(str(scanner.id), scanner.name)
    with deps.transaction() as session:
        if not claim_sweep(session, scanner.id, slot, now):
            return None
    try:
        require_provider(scanner, deps.settings)
    except ConfigurationError:
        outcome.stopped = "no_provider"
        log.warning("sweep_skipped_no_provider", scanner=scanner.name)
        return outcome
    cutoff = now - timedelta(seconds=deps.settings.settle_s)
    old = (as_utc(scanner.last_swept_at), scanner.last_seen_session_id or "")
    start = watermark_of(scanner, cutoff)
    outcome.limit = _limit(deps, scanner, now)
    plan = plan_sweep(
        candidates.after(start),
        watermark=start,
        cutoff=cutoff,
        query=scanner.query or {},
        scanner_id=str(scanner.id),
        rate=scanner.sampling_rate,
        limit=outcome.limit,
    )
    outcome.examined, outcome.stopped = plan.examined, plan.stopped
    ids = _insert(deps, scanner, plan, now)
    outcome.enqueued = deps.sender().send_each(OBSERVE, ids)
    if plan.watermark != old:
        with deps.transaction() as session:
            advance_watermark(session, scanner.id, old, plan.watermark)
    return outcome


def refresh_stale_estimates(deps: Deps, *, now: datetime, limit: int = ESTIMATES_PER_TICK) -> int:
    """Recompute the monthly estimates older than SIGHTLINE_ESTIMATE_MAX_AGE_S, oldest first; how many."""
    before = now - timedelta(seconds=deps.settings.estimate_max_age_s)
    with deps.transaction() as session:
        stale = stale_estimates(session, before, limit)
        for scanner in stale:
            refresh_estimate(session, scanner, now)
        return len(stale)


def _due_by_team(deps: Deps, now: datetime) -> dict[int, list[tuple[Scanner, int]]]:
    """The enabled scanners due at `now` with the slot each would claim, by team."""
    with deps.read() as session:
        scanners = list(enabled_scanners(session))
        for scanner in scanners:
            session.expunge(scanner)
    by_team: dict[int, list[tuple[Scanner, int]]] = defaultdict(list)
    for scanner in scanners:
        slot = due(scanner, now, deps.settings.sweep_interval_s)
        if slot is not None:
            by_team[scanner.team_id].append((scanner, slot))
    return by_team


def _limit(deps: Deps, scanner: Scanner, now: datetime) -> int:
    """How many this sweep may take: the least of the sweep limit, the in-flight room and the budget."""
    settings = deps.settings
    with deps.read() as session:
        free = room(session, scanner, settings)
        budget = affordable(session, scanner, settings, now)
    return min(settings.sweep_limit, free, budget if budget is not None else settings.sweep_limit)


def _insert(deps: Deps, scanner: Scanner, plan: SweepPlan, now: datetime) -> list[UUID]:
    if not plan.chosen:
        return []
    frozen = snapshot(scanner)
    # Plain column values (building 1,000 model objects costs more than the insert itself).
    common = {
        "team_id": scanner.team_id,
        "scanner_id": scanner.id,
        "status": ObservationStatus.PENDING,
        "scanner_snapshot": frozen,
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
    with deps.transaction() as session:
        return insert_pending(session, rows)
