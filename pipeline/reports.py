"""The report state machine (DESIGN §7; the reference's table in posthog-signals.md §2 and §5).

Pure: `transition()` checks a move and returns the field changes it implies; the caller writes
them. `request_state()` is the user-facing decision (the single and bulk `state` commands): the
archive guards, restore, a verdict already held, then `transition()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.errors import Conflict, InvalidField

POTENTIAL, CANDIDATE, IN_PROGRESS = "potential", "candidate", "in_progress"
PENDING_INPUT, READY, RESOLVED = "pending_input", "ready", "resolved"
FAILED, DELETED, SUPPRESSED = "failed", "deleted", "suppressed"
STATUSES = (POTENTIAL, CANDIDATE, IN_PROGRESS, PENDING_INPUT, READY, RESOLVED, FAILED, DELETED, SUPPRESSED)

WEIGHT_THRESHOLD = 1.0
SIGNALS_AT_RUN_INCREMENT = 3
MAX_SNOOZE_FOR = 100_000
MAX_NOTE = 4_000
# Statuses research settles in: what restore can return to.
RESEARCHED = (READY, PENDING_INPUT, RESOLVED, FAILED)
VISIBLE = (READY, PENDING_INPUT)
DISMISSAL_REASONS = (
    "already_fixed",
    "report_unclear",
    "analysis_wrong",
    "wrong_repo",
    "wontfix_intentional",
    "wontfix_irrelevant",
    "fixed_outside_posthog",
    "pr_merged",
    "other",
)
USER_TARGETS = (SUPPRESSED, POTENTIAL, RESOLVED)

_ALIVE = tuple(status for status in STATUSES if status != DELETED)
ALLOWED: dict[str, frozenset[str]] = {
    POTENTIAL: frozenset({CANDIDATE, FAILED, SUPPRESSED, DELETED}),
    CANDIDATE: frozenset({IN_PROGRESS, FAILED, SUPPRESSED, DELETED}),
    IN_PROGRESS: frozenset({CANDIDATE, READY, PENDING_INPUT, POTENTIAL, FAILED, SUPPRESSED, DELETED}),
    PENDING_INPUT: frozenset({POTENTIAL, RESOLVED, FAILED, SUPPRESSED, DELETED}),
    READY: frozenset({CANDIDATE, POTENTIAL, RESOLVED, FAILED, SUPPRESSED, DELETED}),
    RESOLVED: frozenset({POTENTIAL, FAILED, SUPPRESSED, DELETED}),
    FAILED: frozenset({POTENTIAL, SUPPRESSED, DELETED}),
    DELETED: frozenset(),
    SUPPRESSED: frozenset({POTENTIAL, PENDING_INPUT, READY, RESOLVED, FAILED, DELETED}),
}


class InvalidTransition(Conflict):
    """The move is not in the table (the API's 409; `skipped` in bulk)."""

    def __init__(self, current: str, target: str):
        self.current, self.target = current, target
        allowed = ", ".join(sorted(ALLOWED.get(current, ()))) or "nothing (deleted is final)"
        super().__init__(f"a {current} report cannot move to {target}; from {current}: {allowed}")


def _status(value: Any) -> str:
    return str(getattr(value, "value", value)) if value is not None else ""


@dataclass(frozen=True)
class _Args:
    now: datetime
    snooze_for: int | None
    reset_weight: bool
    error: str | None
    title: str | None
    summary: str | None
    increment: int | None


def transition(
    report: Any,
    target: str,
    *,
    now: datetime,
    snooze_for: int | None = None,
    reset_weight: bool = False,
    error: str | None = None,
    title: str | None = None,
    summary: str | None = None,
    increment: int | None = None,
) -> dict[str, Any]:
    """The field changes of moving `report` to `target`; `InvalidTransition` when not allowed,
    `InvalidField` when a required argument is missing or out of range."""
    current = _status(report.status)
    if target not in STATUSES:
        raise InvalidField("status", f"{target!r} is not one of {', '.join(STATUSES)}")
    if target not in ALLOWED[current]:
        raise InvalidTransition(current, target)
    args = _Args(now, snooze_for, reset_weight, error, title, summary, increment)
    changes: dict[str, Any] = {"status": target, "updated_at": now}
    if current == SUPPRESSED:  # restore: keeps title, summary and error
        if target == POTENTIAL:
            changes.update(_to_potential(report, args))
        if target != DELETED:
            changes["status_before_suppression"] = None
    else:
        changes.update(_EFFECTS.get(target, _nothing)(report, args))
        if target == SUPPRESSED:
            changes["status_before_suppression"] = current
    if target in VISIBLE and report.first_visible_at is None:
        changes["first_visible_at"] = now
    return changes


def _nothing(report: Any, args: _Args) -> dict[str, Any]:
    return {}


def _to_candidate(report: Any, args: _Args) -> dict[str, Any]:
    return {"promoted_at": args.now}


def _to_in_progress(report: Any, args: _Args) -> dict[str, Any]:
    if args.increment is None or args.increment < 0:
        raise InvalidField("increment", "starting a run needs the signals_at_run increment (3)")
    return {
        "last_run_at": args.now,
        "signals_at_run": report.signal_count + args.increment,
        "run_count": report.run_count + 1,
    }


def _to_ready(report: Any, args: _Args) -> dict[str, Any]:
    _require(title=args.title, summary=args.summary)
    return {"title": args.title, "summary": args.summary, "error": None}


def _to_pending_input(report: Any, args: _Args) -> dict[str, Any]:
    _require(title=args.title, summary=args.summary, error=args.error)
    return {"title": args.title, "summary": args.summary, "error": args.error}


def _to_potential(report: Any, args: _Args) -> dict[str, Any]:
    changes: dict[str, Any] = {"promoted_at": None}
    snooze = args.snooze_for
    if snooze is not None:
        if isinstance(snooze, bool) or not isinstance(snooze, int) or not 1 <= snooze <= MAX_SNOOZE_FOR:
            raise InvalidField("snooze_for", f"give a whole number from 1 to {MAX_SNOOZE_FOR}")
        changes["signals_at_run"] = report.signal_count + snooze
    if args.reset_weight:
        changes["total_weight"] = 0.0
    if args.error is not None:
        changes["error"] = args.error
    return changes


def _to_failed(report: Any, args: _Args) -> dict[str, Any]:
    _require(error=args.error)
    return {"error": args.error}


def _to_suppressed(report: Any, args: _Args) -> dict[str, Any]:
    return {"promoted_at": None}


_EFFECTS = {
    CANDIDATE: _to_candidate,
    IN_PROGRESS: _to_in_progress,
    READY: _to_ready,
    PENDING_INPUT: _to_pending_input,
    POTENTIAL: _to_potential,
    FAILED: _to_failed,
    SUPPRESSED: _to_suppressed,
}


def _require(**values: str | None) -> None:
    for name, value in values.items():
        if not value or not str(value).strip():
            raise InvalidField(name, "is required for this move")


def restore_target(report: Any, latest_actionability: str | None) -> str:
    """Where un-archiving a suppressed report goes (reference §2.3)."""
    before = _status(report.status_before_suppression)
    if before in RESEARCHED:
        return before
    if report.first_visible_at is None and report.title and report.summary:
        return READY if latest_actionability == "immediately_actionable" else PENDING_INPUT
    return POTENTIAL


def promotion_due(report: Any, threshold: float = WEIGHT_THRESHOLD) -> bool:
    """potential → candidate when the weight reached the threshold and the count passed the gate."""
    return (
        _status(report.status) == POTENTIAL
        and report.total_weight >= threshold
        and report.signal_count >= report.signals_at_run
    )


@dataclass
class StateRequest:
    """What a person asks of a report: a target and optional feedback."""

    target: str
    reason: str | None = None
    note: str | None = None
    snooze_for: int | None = None

    def __post_init__(self) -> None:
        if self.target not in USER_TARGETS:
            raise InvalidField("to", f"{self.target!r} is not one of {', '.join(USER_TARGETS)}")
        if self.reason is not None and self.reason not in DISMISSAL_REASONS:
            raise InvalidField("reason", f"{self.reason!r} is not one of {', '.join(DISMISSAL_REASONS)}")
        if self.note is not None and len(self.note) > MAX_NOTE:
            raise InvalidField("note", f"is {len(self.note)} characters; at most {MAX_NOTE}")
        if self.snooze_for is not None and self.target != POTENTIAL:
            raise InvalidField("snooze_for", "only applies when moving to potential")

    @property
    def feedback(self) -> dict[str, str] | None:
        """The dismissal artefact's content, when the request carries a reason or a note."""
        if self.reason is None and self.note is None:
            return None
        content = {}
        if self.reason is not None:
            content["reason"] = self.reason
        if self.note is not None:
            content["note"] = self.note
        return content


@dataclass
class Decision:
    outcome: str  # transitioned | skipped | failed
    status: str
    changes: dict[str, Any] = field(default_factory=dict)
    feedback: dict[str, str] | None = None
    detail: str | None = None
    bad_field: str | None = None  # what made a `failed` request invalid


def request_state(
    report: Any, request: StateRequest, *, now: datetime, latest_actionability: str | None = None
) -> Decision:
    """Decide a person's state request (reference §5.1, without refunds)."""
    current = _status(report.status)
    target = request.target
    if current == SUPPRESSED and target == RESOLVED:
        before = _status(report.status_before_suppression)
        if before not in (READY, PENDING_INPUT, RESOLVED):
            return Decision(
                "skipped",
                current,
                detail=(
                    "only a report that was ready, pending_input or resolved before it was archived can be "
                    "resolved from the archive; restore it first"
                ),
            )
    if current == SUPPRESSED and target == POTENTIAL:
        if request.snooze_for is not None or request.reason == "already_fixed":
            return Decision("skipped", current, detail="this report is archived; restore it before snoozing")
        target = restore_target(report, latest_actionability)
    if target == current and current in (SUPPRESSED, RESOLVED):
        return Decision("transitioned", current, feedback=request.feedback, detail="already held this status")
    try:
        changes = transition(report, target, now=now, snooze_for=request.snooze_for)
    except InvalidTransition as exc:
        return Decision("skipped", current, detail=str(exc))
    except InvalidField as exc:
        return Decision("failed", current, detail=str(exc), bad_field=exc.field)
    return Decision("transitioned", target, changes, request.feedback)


def dedupe_ids(ids: list[str], limit: int = 100) -> list[str]:
    """Bulk ids, de-duplicated keeping the first position; 1 to `limit` of them."""
    unique = list(dict.fromkeys(ids))
    if not unique or len(unique) > limit:
        raise InvalidField("ids", f"give 1 to {limit} report ids")
    return unique
