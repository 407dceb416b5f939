"""Retention and per-person deletion (DESIGN §11), the decisions: which recordings are due, which
signals came from an observation, and what losing signals does to a report. Pure.

A recording is due once both its end and its last ingest are older than the retention period: a
live recording is kept for the period after it happened, and an export imported today is kept for
the period after it arrived rather than deleted by the next tick.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pipeline.errors import InvalidField
from pipeline.reports import DELETED, transition

# Observations' signals are `observation:{id}:{index}` (pipeline.observation.signal_rows).
SIGNAL_PREFIX = "observation:{id}:"


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    """Recordings that ended and were last ingested before this instant are due for deletion."""
    return now - timedelta(days=retention_days)


def signal_prefix(observation_id: object) -> str:
    """The start of the `source_id` of every signal the observation emitted."""
    return SIGNAL_PREFIX.format(id=observation_id)


def one_selector(session_id: str | None, distinct_id: str | None) -> tuple[str, str]:
    """The one way a deletion names its recordings, as (field, value); `InvalidField` when neither
    or both are given, or the value is blank."""
    given = [
        (name, value)
        for name, value in (("session", session_id), ("distinct_id", distinct_id))
        if value is not None
    ]
    if len(given) != 1 or not given[0][1].strip():
        raise InvalidField("selector", "give exactly one of a session id or a distinct id")
    return given[0][0], given[0][1]


def shrink(report: Any, weight: float, count: int, left: int, now: datetime) -> dict[str, Any]:
    """The field changes of a report that lost `count` counted signals weighing `weight`, with
    `left` live signals still in it.

    Counts go down, never below zero. A report left with no signals is deleted (the state machine's
    move) and loses the title and summary that were written from them: nothing can join it again,
    since grouping only matches reports through their live signals.
    """
    changes: dict[str, Any] = {
        "total_weight": max(0.0, report.total_weight - weight),
        "signal_count": max(0, report.signal_count - count),
        "updated_at": now,
    }
    if left == 0:
        changes.update(total_weight=0.0, signal_count=0)
        if str(getattr(report.status, "value", report.status)) != DELETED:
            changes.update(transition(report, DELETED, now=now), title=None, summary=None)
    return changes
