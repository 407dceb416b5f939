"""Observations read back: one scanner's (filtered, ordered, a page at a time), one session's across
the team's scanners, one by id, and what a scanner's observations add up to.

Every read is limited to the caller's team: another team's scanner or observation is `NotFoundError`,
exactly as one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlmodel import Session

from models import Observation, ObservationStatus, Scanner, TriggeredBy
from models.vision_queries import (
    OBSERVATION_ORDERS,
    ObservationFilters,
    distinct_sessions,
    filtered_observations,
    observation_conditions,
    scores,
    status_counts,
    tag_lists,
    team_observation,
    verdict_counts,
)
from pipeline import observation_stats as stats
from pipeline.errors import InvalidField, NotFoundError
from services.context import Deps

_CHOICES = {"status": ObservationStatus, "triggered_by": TriggeredBy}


@dataclass(frozen=True)
class ObservationStats:
    """The reference's stats: counts by status, session coverage, tags seen, and one section per
    scanner type (None for the types that are not this scanner's)."""

    status_counts: dict[str, Any]
    coverage: dict[str, int]
    available_tags: list[str]
    monitor: dict[str, int] | None
    classifier: dict[str, Any] | None
    scorer: dict[str, Any] | None


def observation_page(
    deps: Deps,
    team_id: int,
    scanner_id: UUID,
    filters: ObservationFilters,
    order_by: str = "-created_at",
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[Observation]]:
    """One page of a scanner's observations matching `filters`, in `order_by` (`-created_at`, …).

    Raises `NotFoundError` for a scanner the team does not have, `InvalidField` for an unknown
    status, trigger or order.
    """
    _check(filters, order_by)
    with deps.read() as session:
        _scanner(session, team_id, scanner_id)
        count, rows = filtered_observations(session, team_id, scanner_id, filters, order_by, limit, offset)
        return count, list(rows)


def session_observations(
    deps: Deps,
    team_id: int,
    session_id: str,
    order_by: str = "-created_at",
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[Observation]]:
    """One page of a session's observations by every scanner of the team. Raises `InvalidField`
    for an empty session id or an unknown order."""
    if not session_id.strip():
        raise InvalidField("session_id", "name the session whose observations you want")
    filters = ObservationFilters(session_id=session_id)
    _check(filters, order_by)
    with deps.read() as session:
        count, rows = filtered_observations(session, team_id, None, filters, order_by, limit, offset)
        return count, list(rows)


def observation(
    deps: Deps, team_id: int, observation_id: UUID, *, scanner_id: UUID | None = None
) -> Observation:
    """The team's observation with this id (of this scanner when given); `NotFoundError` otherwise."""
    with deps.read() as session:
        if scanner_id is not None:
            _scanner(session, team_id, scanner_id)
        row = team_observation(session, team_id, observation_id, scanner_id)
        if row is None:
            raise NotFoundError(f"no observation {observation_id} here")
        return row


def observation_stats(
    deps: Deps,
    team_id: int,
    scanner_id: UUID,
    filters: ObservationFilters,
    *,
    recent_days: int | None = None,
    now: datetime | None = None,
) -> ObservationStats:
    """Counts and per-type distributions over a scanner's observations matching `filters`.

    Coverage counts the distinct sessions observed, and those observed in the last `recent_days`
    (14 by default, kept within 1..365). Raises `NotFoundError` for a scanner the team does not
    have, `InvalidField` for an unknown status or trigger.
    """
    _check(filters, "created_at")
    days = stats.recent_days(recent_days)
    since = (now or deps.now()) - timedelta(days=days)
    with deps.read() as session:
        found = _scanner(session, team_id, scanner_id)
        where = observation_conditions(session, team_id, scanner_id, filters)
        counts = stats.status_section(status_counts(session, where))
        coverage = {
            "recent_sessions": distinct_sessions(session, where, since),
            "total_sessions": distinct_sessions(session, where),
            "recent_days": days,
        }
        kind, tags = str(found.scanner_type), list[str]()
        monitor = stats.monitor_section(verdict_counts(session, where)) if kind == "monitor" else None
        classifier = None
        if kind == "classifier":
            classifier, tags = stats.classifier_section(tag_lists(session, where))
        scale = found.scanner_config.get("scale")
        scorer = stats.scorer_section(scores(session, where), scale) if kind == "scorer" else None
    return ObservationStats(counts, coverage, tags, monitor, classifier, scorer)


def _scanner(session: Session, team_id: int, scanner_id: UUID) -> Scanner:
    found = session.get(Scanner, scanner_id)
    if found is None or found.team_id != team_id:
        raise NotFoundError(f"no scanner {scanner_id} here; see `sightline scanners list`")
    return found


def _check(filters: ObservationFilters, order_by: str) -> None:
    """Raises `InvalidField` for a status, trigger or order the reference does not have."""
    for field, choices in _CHOICES.items():
        allowed = {str(choice) for choice in choices}
        unknown = [value for value in getattr(filters, field) if value not in allowed]
        if unknown:
            raise InvalidField(field, f"{unknown[0]!r} is not one of {', '.join(sorted(allowed))}")
    if order_by.lstrip("-") not in OBSERVATION_ORDERS:
        raise InvalidField("order_by", f"{order_by!r} is not one of {', '.join(OBSERVATION_ORDERS)}")
