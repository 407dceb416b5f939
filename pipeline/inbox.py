"""The inbox (DESIGN §7, reference posthog-signals.md §1.3): which reports a list shows, and in which order.

Deleted reports are never listed; suppressed ones only when a status filter names them (or every
status is asked for). `ordering=status` sorts by the pipeline's rank, not by the text of the status;
`priority` sorts P0…P4 with reports that have none last. Ties go newest-updated first, then by id,
so pages never overlap. The rules are data (`sort_keys`) that the database sorts by: a report keeps
what its newest artefacts say in columns (`inbox_columns`), so a page is read without its artefacts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from pipeline.errors import InvalidField
from pipeline.reports import READY, STATUSES

PRIORITIES = ("P0", "P1", "P2", "P3", "P4")
ORDERINGS = ("status", "priority", "updated_at", "created_at", "total_weight", "signal_count")
# A rank rule: when a report's columns hold these values (all of them), it has this rank.
Rule = tuple[Mapping[str, str], int]
# `ordering=status`: the pipeline's rank. Ready and actionable first, ready but judged not
# actionable next, suppressed last; the first rule that matches wins, any other status is 9.
STATUS_RANKS: tuple[Rule, ...] = (
    ({"status": READY, "actionability": "not_actionable"}, 1),
    ({"status": READY}, 0),
    ({"status": "pending_input"}, 2),
    ({"status": "in_progress"}, 3),
    ({"status": "candidate"}, 4),
    ({"status": "potential"}, 5),
    ({"status": "failed"}, 6),
    ({"status": "resolved"}, 7),
    ({"status": "suppressed"}, 8),
)
UNRANKED_STATUS = 9
MAX_ACTIONABILITY = 32  # the width of `signal_reports.actionability`
# The artefact types the report columns of `inbox_columns` come from.
JUDGMENTS = ("priority_judgment", "actionability_judgment")
# `ordering=priority`: P0 first, P4 last, a report without a priority after every one with one.
PRIORITY_RANKS: tuple[Rule, ...] = tuple(({"priority": name}, rank) for rank, name in enumerate(PRIORITIES))
_RANKED = {"status": (STATUS_RANKS, UNRANKED_STATUS), "priority": (PRIORITY_RANKS, len(PRIORITIES))}
# After the asked-for keys: newest updated first, then by id (ascending), so pages never overlap.
TIE_BREAKS = (("updated_at", True), ("id", False))


class SortKey(NamedTuple):
    """One key of an ORDER BY: a column as is, or (with `rules`) the rank of the first rule that
    matches, `otherwise` when none does."""

    name: str
    descending: bool
    rules: tuple[Rule, ...] = ()
    otherwise: int = 0


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


def nothing_matches(filters: InboxFilters) -> bool:
    """Sightline opens no pull requests and runs no tasks: a list asking for either is empty."""
    return bool(filters.has_implementation_pr) or filters.task_id is not None


def reviewed_by(filters: InboxFilters, reviewers: Sequence[str]) -> bool:
    """Whether a report whose newest `suggested_reviewers` names `reviewers` passes that filter."""
    return not filters.reviewers or bool(set(filters.reviewers) & set(reviewers))


def inbox_columns(facts: Mapping[str, Any]) -> dict[str, str | None]:
    """The report columns the inbox sorts and filters by, from `pipeline.artefacts.derived`'s facts.

    A priority outside PRIORITIES, or an actionability that is not short text, is stored as none:
    it sorts and filters exactly like none (only P0…P4 and "not_actionable" count).
    """
    priority, actionability = facts.get("priority"), facts.get("actionability")
    fits = isinstance(actionability, str) and len(actionability) <= MAX_ACTIONABILITY
    return {
        "priority": priority if priority in PRIORITIES else None,
        "actionability": actionability if fits else None,
    }


def ordering_of(text: str) -> list[tuple[str, bool]]:
    """`status`, `-updated_at`, `priority,-signal_count`… as (field, descending) pairs; `InvalidField`."""
    fields = [part.strip() for part in (text or "").split(",") if part.strip()]
    parsed = [(field.removeprefix("-"), field.startswith("-")) for field in fields]
    if not parsed or any(name not in ORDERINGS for name, _ in parsed):
        choices = ", ".join(name for field in ORDERINGS for name in (field, f"-{field}"))
        raise InvalidField("ordering", f"{text!r} is not a comma-separated list of {choices}")
    return parsed


def sort_keys(ordering: str) -> list[SortKey]:
    """What `ordering` sorts by, then the tie-breaks; `InvalidField` for an unknown ordering."""
    keys = []
    for name, descending in [*ordering_of(ordering), *TIE_BREAKS]:
        rules, otherwise = _RANKED.get(name, ((), 0))
        keys.append(SortKey(name, descending, rules, otherwise))
    return keys
