"""How many observations a scanner will make a month (DESIGN §6, `estimated_monthly_observations`).

Sessions matching the query and eligible by metadata over the last 30 days of data (counted back
from the newest recording, so an old import still gives an answer), per day of data, times 30,
times the sampling rate. The numeric parts of the query and of eligibility are filtered in SQL;
URL and event filters are matched in memory on the rows that are left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from models import Scanner
from models.scheduler_queries import data_span, estimate_filters, recordings_between
from pipeline.limits import MAX_ACTIVE_S, MIN_ACTIVE_S, MIN_DURATION_S
from pipeline.query import matches
from pipeline.sweep import estimate_monthly

WINDOW = timedelta(days=30)
_IN_MEMORY_KEYS = ("urls", "url_contains", "custom_events")


@dataclass(frozen=True)
class Estimate:
    """A monthly estimate and what it was computed from."""

    matched_sessions_in_window: int  # sessions matching the query and eligible, sampling not applied
    window_days: float  # days of data the count covers (at least 1, at most 30)
    estimated_observations_per_month: int
    sampling_rate: float


def estimate(session: Session, team_id: int, query: dict[str, Any] | None, rate: float) -> int:
    """Observations a month for this query and sampling rate, from the team's last 30 days of data."""
    return estimate_details(session, team_id, query, rate).estimated_observations_per_month


def estimate_details(session: Session, team_id: int, query: dict[str, Any] | None, rate: float) -> Estimate:
    """The estimate with the matched sessions and the days of data it divides them by."""
    query = query or {}
    first, last = data_span(session, team_id)
    if first is None or last is None:  # both are None when the team has no recordings
        return Estimate(0, WINDOW.days, 0, rate)
    since = max(first, last - WINDOW)
    where = estimate_filters(
        query, min_duration_s=MIN_DURATION_S, min_active_s=MIN_ACTIVE_S, max_active_s=MAX_ACTIVE_S
    )
    rows = recordings_between(session, team_id, since, last, where)
    if any(key in query for key in _IN_MEMORY_KEYS):
        count = sum(1 for row in rows if matches(query, row._mapping))
    else:
        count = sum(1 for _ in rows)
    days = max((last - since).total_seconds() / 86_400, 1.0)
    return Estimate(count, round(days, 2), estimate_monthly(count, days, rate), rate)


def refresh_estimate(session: Session, scanner: Scanner, now: datetime) -> int:
    """Recompute and store a scanner's estimate (the caller commits)."""
    scanner.estimated_monthly_observations = estimate(
        session, scanner.team_id, scanner.query, scanner.sampling_rate
    )
    scanner.estimated_at = now
    session.add(scanner)
    return scanner.estimated_monthly_observations
