"""Which recordings one sweep of one scanner takes (DESIGN §6). Pure: rows in, a plan out.

Candidates arrive in watermark order, `(last_ingested_at, session_id)` ascending: the order in
which recordings *settled* (nothing ingested for `settle_s`), all after the scanner's watermark and
settled by the cutoff. Walking by settle order rather than end time means a session that arrives
late (an old export, a PostHog backfill, a batch retried after an outage) is still ahead of every
watermark, and a session still receiving batches is simply not a candidate yet. A recording that
receives more events after it was swept settles again and is walked again; the unique
(scanner, session) key skips it. The plan walks them and stops:

- at a recording not settled by the cutoff (a defence: the query already leaves them out);
- when the batch is full (headroom, quota or the sweep limit): the watermark stops just before
  the first kept recording that was not taken, so the next sweep starts there.

Everything the plan walked past is either taken or rejected for good (query, eligibility, sample),
so the new watermark is the last recording walked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.limits import eligibility
from pipeline.query import matches
from pipeline.sampling import keeps

Watermark = tuple[datetime, str]
MAX_EXAMINED = 20_000
# A sweep that stopped for one of these left recordings it wants behind: the scanner has a backlog,
# and free headroom is filled on the next tick. "budget" (the quota ran out) is not one: the money
# does not come back by the next tick, so such a scanner waits for its slot.
BACKLOG_STOPS = frozenset({"full", "walked"})


@dataclass
class Candidate:
    """What a sweep knows of one recording: the watermark key, settling, query and eligibility metadata."""

    session_id: str
    end_time: datetime  # aware UTC
    last_ingested_at: datetime  # aware UTC
    duration_s: float = 0.0
    active_s: float = 0.0
    event_count: int = 0
    urls: list[str] | None = None
    console_error_count: int = 0
    device_type: str | None = None
    distinct_id: str | None = None
    custom_events: list[str] | None = None
    # Whether eligibility by metadata passes: the same for every scanner, so computed once.
    eligible: bool | None = None


@dataclass
class SweepPlan:
    watermark: Watermark
    chosen: list[Any] = field(default_factory=list)
    examined: int = 0
    # Why the walk ended early: "unsettled", "full", "walked" (examined enough for one sweep), or ""
    # when it ran out of candidates.
    stopped: str = ""


def _metadata(row: Any) -> Mapping[str, Any]:
    mapping = getattr(row, "_mapping", None)
    return mapping if mapping is not None else vars(row)


def _eligible(row: Any) -> bool:
    cached = getattr(row, "eligible", None)
    if cached is None:
        cached = eligibility(row) is None
        if isinstance(row, Candidate):
            row.eligible = cached
    return cached


def wanted(row: Any, query: Mapping[str, Any], scanner_id: str, rate: float) -> bool:
    """Does the scanner want this recording: the sample, metadata eligibility, and its query.

    Cheapest first: the sample usually says no, and eligibility is remembered on the row.
    """
    return (
        keeps(row.session_id, scanner_id, rate)
        and _eligible(row)
        and (not query or matches(query, _metadata(row)))
    )


def plan_sweep(
    candidates: Iterable[Any],
    *,
    watermark: Watermark,
    cutoff: datetime,
    query: Mapping[str, Any],
    scanner_id: str,
    rate: float,
    limit: int,
    max_examined: int = MAX_EXAMINED,
) -> SweepPlan:
    """Walk `candidates` (watermark order) and pick at most `limit` recordings to observe.

    At most `max_examined` recordings are walked, so a scanner far behind (a backfill over a big
    history) catches up over several sweeps instead of holding one tick.
    """
    plan = SweepPlan(watermark)
    for row in candidates:
        if plan.examined >= max_examined:
            plan.stopped = "walked"
            break
        if row.last_ingested_at > cutoff:
            plan.stopped = "unsettled"
            break
        if wanted(row, query, scanner_id, rate):
            if len(plan.chosen) >= limit:
                plan.stopped = "full"
                break
            plan.chosen.append(row)
        plan.examined += 1
        plan.watermark = (row.last_ingested_at, row.session_id)
    return plan


def estimate_monthly(matching: int, days_of_data: float, rate: float) -> int:
    """Observations a month: matching sessions per day of data, times 30, times the sampling rate."""
    if matching <= 0 or rate <= 0:
        return 0
    return round(matching / max(days_of_data, 1.0) * 30 * rate)


@dataclass(frozen=True)
class Backlogged:
    """A scanner whose last sweep left a backlog, as the top-up stage sees it."""

    key: Any
    team_id: int
    last_sweep_at: datetime  # aware UTC
    room: int  # in-flight room left (the scanner's cap and its team's)


def share_top_ups(
    waiting: Sequence[Backlogged], *, per_tick: int, least: int
) -> list[tuple[Backlogged, int]]:
    """Which backlogged scanners one tick tops up, and at most how many sessions each may take.

    At most `per_tick` sessions in all, in equal shares of at least `least` (a sweep has a fixed
    cost, so thin slices would waste the tick). Teams take turns, and within a team the scanner
    topped up longest ago goes first: one scanner (or team) with a huge backlog gets its share, not
    the tick, and whoever was left out this tick is first on the next.
    """
    by_team: dict[int, list[Backlogged]] = defaultdict(list)
    for item in sorted(waiting, key=lambda item: (item.last_sweep_at, str(item.key))):
        if item.room > 0:
            by_team[item.team_id].append(item)
    turns = [
        team[index]
        for index in range(max(map(len, by_team.values()), default=0))
        for team in by_team.values()
        if index < len(team)
    ]
    share = max(least, per_tick // len(turns)) if turns else 0
    chosen, left = [], per_tick
    for item in turns:
        take = min(item.room, share)
        # No thin remainder for the next in line: it goes first on the next tick with a full share.
        if take > left:
            break
        chosen.append((item, take))
        left -= take
    return chosen


def drain_eta_s(backlog: float, finished: int, window_s: float) -> float | None:
    """Seconds a backlog takes at the rate `finished` observations per `window_s` drained lately.

    0 with nothing left; None when something is left but nothing finished lately (no rate to go by).
    """
    if backlog <= 0:
        return 0.0
    if finished <= 0 or window_s <= 0:
        return None
    return backlog / (finished / window_s)
