"""The inbox (DESIGN §7, reference posthog-signals.md §1.3): which reports a list shows, and in which order.

Deleted reports are never listed; suppressed ones only when a status filter names them (or every
status is asked for). `ordering=status` sorts by the pipeline's rank, not by the text of the status;
`priority` sorts P0…P4 with reports that have none last. Ties go newest-updated first, then by id,
so pages never overlap. Pure: rows are `(report, facts)`: `pipeline.artefacts.derived` and the
report's `suggested_reviewers`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.errors import InvalidField
from pipeline.reports import READY, STATUSES

PRIORITIES = ("P0", "P1", "P2", "P3", "P4")
ORDERINGS = ("status", "priority", "updated_at", "created_at", "total_weight", "signal_count")
_RANK = {
    "pending_input": 2,
    "in_progress": 3,
    "candidate": 4,
    "potential": 5,
    "failed": 6,
    "resolved": 7,
    "suppressed": 8,
}
Row = tuple[Any, dict[str, Any]]


@dataclass(frozen=True)
class InboxFilters:
    """What a list asks for; an empty tuple or None means any."""

    statuses: tuple[str, ...] = ()
    include_suppressed: bool = False
    search: str | None = None
    source_products: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()  # GitHub logins or user UUIDs of the newest suggested_reviewers
    has_implementation_pr: bool | None = None
    task_id: str | None = None


def _listed(text: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in (text or "").split(",") if part.strip()))


def inbox_filters(
    *,
    status: str | None = None,
    include_all: bool = False,
    search: str | None = None,
    source_product: str | None = None,
    priority: str | None = None,
    suggested_reviewers: str | None = None,
    has_implementation_pr: bool | None = None,
    task_id: str | None = None,
) -> InboxFilters:
    """The filters of a list from its parameters (comma-separated lists allowed); `InvalidField`
    naming `status` or `priority` for an unknown value."""
    statuses, priorities = _listed(status), _listed(priority)
    for field, values, known in (("status", statuses, STATUSES), ("priority", priorities, PRIORITIES)):
        unknown = [value for value in values if value not in known]
        if unknown:
            raise InvalidField(field, f"{unknown[0]!r} is not one of {', '.join(known)}")
    return InboxFilters(
        statuses=statuses,
        include_suppressed=include_all,
        search=(search or "").strip() or None,
        source_products=_listed(source_product),
        priorities=priorities,
        reviewers=_listed(suggested_reviewers),
        has_implementation_pr=has_implementation_pr,
        task_id=task_id or None,
    )


def shown(filters: InboxFilters, facts: dict[str, Any]) -> bool:
    """The filters that read a report's artefacts (the database applies the others)."""
    if filters.priorities and facts.get("priority") not in filters.priorities:
        return False
    if filters.reviewers and not set(filters.reviewers) & set(facts.get("suggested_reviewers") or ()):
        return False
    # Sightline opens no pull requests and runs no tasks: nothing has either.
    return not filters.has_implementation_pr and filters.task_id is None


def rank(row: Row) -> int:
    """A report's place in the pipeline: ready and actionable first, suppressed last."""
    report, facts = row
    status = str(getattr(report.status, "value", report.status))
    if status == READY:
        return 1 if facts.get("actionability") == "not_actionable" else 0
    return _RANK.get(status, 9)


def _priority(row: Row) -> int:
    """P0 first, P4 last; a report without a priority after every one with one."""
    priority = row[1].get("priority")
    return PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES)


_KEYS: dict[str, Callable[[Row], Any]] = {
    "status": rank,
    "priority": _priority,
    "updated_at": lambda row: row[0].updated_at.timestamp(),
    "created_at": lambda row: row[0].created_at.timestamp(),
    "total_weight": lambda row: row[0].total_weight,
    "signal_count": lambda row: row[0].signal_count,
}


def ordering_of(text: str) -> list[tuple[str, bool]]:
    """`status`, `-updated_at`, `priority,-signal_count`… as (field, descending) pairs; `InvalidField`."""
    fields = [part.strip() for part in (text or "").split(",") if part.strip()]
    parsed = [(field.removeprefix("-"), field.startswith("-")) for field in fields]
    if not parsed or any(name not in ORDERINGS for name, _ in parsed):
        choices = ", ".join(name for field in ORDERINGS for name in (field, f"-{field}"))
        raise InvalidField("ordering", f"{text!r} is not a comma-separated list of {choices}")
    return parsed


def ordered(rows: Sequence[Row], ordering: str) -> list[Row]:
    """The rows in `ordering` (see `ordering_of`), ties newest-updated first, then by id."""
    keys = ordering_of(ordering)
    result = sorted(rows, key=lambda row: str(row[0].id))
    result.sort(key=_KEYS["updated_at"], reverse=True)
    for name, descending in reversed(keys):  # stable sorts: the first key is applied last
        result.sort(key=_KEYS[name], reverse=descending)
    return result
