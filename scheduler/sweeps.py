"""Sweeps (DESIGN §6): each enabled scanner, once per sweep slot, takes the new settled recordings
its query, eligibility and sample want, within headroom and quota, and enqueues them.

Order of writes, so that a crash anywhere loses nothing and repeats nothing: (1) claim the slot,
(2) insert the pending rows and commit, (3) send their ids, (4) advance the watermark. A crash after
(2) leaves rows the pending reaper re-sends; a crash after (3) makes the next sweep walk the same
recordings again, and the unique (scanner, session) key skips them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import uuid4

import structlog
from sqlmodel import Session

from integrations.observing import affordable, require_provider
from models import ObservationStatus, Scanner, TriggeredBy, as_utc, session_scope
from models.observation_queries import in_flight
from models.scheduler_queries import advance_watermark, candidates_after, claim_sweep, insert_pending
from pipeline.errors import ConfigurationError
from pipeline.limits import headroom
from pipeline.sampling import sweep_slot
from pipeline.scanners import snapshot
from pipeline.sweep import Candidate, SweepPlan, Watermark, plan_sweep
from scheduler.dispatch import Dispatcher
from settings import Settings

log = structlog.get_logger(__name__)
PAGE = 1000


@dataclass
class SweepOutcome:
    scanner_id: str
    name: str
    examined: int = 0
    enqueued: int = 0
    stopped: str = ""  # "", "unsettled", "full", "walked", "no_provider"
    limit: int = 0


class TeamCandidates:
    """One team's recordings after a starting watermark, read page by page once per tick.

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
            self.keys.append((values["end_time"], row.session_id))
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


def sweep(sessions, scanner: Scanner, slot: int, candidates: TeamCandidates, dispatcher: Dispatcher,
          settings: Settings, now: datetime) -> SweepOutcome | None:  # fmt: skip
    """Sweep one scanner for `slot`; None when another scheduler claimed the slot first."""
    outcome = SweepOutcome(str(scanner.id), scanner.name)
    with session_scope(sessions) as session:
        if not claim_sweep(session, scanner.id, slot, now):
            return None
    try:
        require_provider(scanner, settings)
    except ConfigurationError:
        outcome.stopped = "no_provider"
        log.warning("sweep_skipped_no_provider", scanner=scanner.name)
        return outcome
    cutoff = now - timedelta(seconds=settings.settle_s)
    old = (as_utc(scanner.last_swept_at), scanner.last_seen_session_id or "")
    start = watermark_of(scanner, cutoff)
    with session_scope(sessions) as session:
        room = headroom(
            in_flight(session, scanner_id=scanner.id), in_flight(session, team_id=scanner.team_id),
            settings.in_flight_per_scanner, settings.in_flight_per_team,
        )  # fmt: skip
        budget = affordable(session, scanner, settings, now)
    outcome.limit = min(settings.sweep_limit, room, budget if budget is not None else settings.sweep_limit)
    plan = plan_sweep(
        candidates.after(start), watermark=start, cutoff=cutoff, query=scanner.query or {},
        scanner_id=str(scanner.id), rate=scanner.sampling_rate, limit=outcome.limit,
    )  # fmt: skip
    outcome.examined, outcome.stopped = plan.examined, plan.stopped
    ids = _insert(sessions, scanner, plan, now)
    outcome.enqueued = dispatcher.observe(ids)
    if plan.watermark != old:
        with session_scope(sessions) as session:
            advance_watermark(session, scanner.id, old, plan.watermark)
    return outcome


def _insert(sessions, scanner: Scanner, plan: SweepPlan, now: datetime) -> list:
    if not plan.chosen:
        return []
    frozen = snapshot(scanner)
    # Plain column values (building 1,000 model objects costs more than the insert itself).
    common = {"team_id": scanner.team_id, "scanner_id": scanner.id, "status": ObservationStatus.PENDING,
              "scanner_snapshot": frozen, "triggered_by": TriggeredBy.SCHEDULE, "send_count": 1,
              "last_sent_at": now, "created_at": now}  # fmt: skip
    rows = [
        {**common, "id": uuid4(), "session_id": row.session_id,
         "workflow_id": f"observe-{scanner.id}-{row.session_id}"}
        for row in plan.chosen
    ]  # fmt: skip
    with session_scope(sessions) as session:
        return insert_pending(session, rows)
