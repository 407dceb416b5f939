"""Action runs (DESIGN §6, §8): claim each due occurrence once, run it, run one now.

A claim is one transaction: `next_run_at` moves from the claimed occurrence to the next one after
now (conditional on it still being the claimed one) and `ActionRun(action, scheduled_at)` (unique)
is inserted. Occurrences missed while nothing ran are not replayed.

A run is decided and written once: its Markdown, cited observation ids, Slack rendering, status and
one `Delivery` row per target, in one transaction; then its deliveries are sent. The decision
(selection and, for a digest, the model call) is made without the run's row lock, which is taken
only to write the result: synthesis can take minutes. A rerun of a run that has Markdown never
calls the model again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models import ActionRun, ActionRunStatus, Delivery, DeliveryStatus, Scanner, VisionAction, as_utc
from models.action_queries import (
    completed_between,
    delivery_exists,
    previous_completed,
    previous_evaluated,
    run_deliveries,
)
from models.scheduler_queries import due_actions, set_next_run, unscheduled_actions
from pipeline import actions as rules
from pipeline.digests import (
    alert_markdown,
    alert_since,
    digest_markdown,
    digest_title,
    parse_synthesis,
    skip_note,
    slack_output,
    synthesis_call,
)
from pipeline.errors import InvalidField, NotFoundError, SightlineError
from pipeline.names import DELIVER, RUN_ACTION
from pipeline.prompt_library import LATEST, frozen_ref
from services.context import Deps
from services.prompts import resolve

log = structlog.get_logger(__name__)
RUNNING, COMPLETED, SKIPPED = ActionRunStatus.RUNNING, ActionRunStatus.COMPLETED, ActionRunStatus.SKIPPED
ALERT_EXAMPLES = 5


@dataclass
class ActionOutcome:
    scheduled: int = 0  # actions given their first next_run_at
    claimed: int = 0
    invalid: int = 0


@dataclass(frozen=True)
class RunResult:
    status: str  # completed | skipped | failed | running | missing
    deliveries: list[UUID]  # its pending deliveries, each sent to the deliver queue


@dataclass(frozen=True)
class RunProgress:
    status: str
    error: str | None
    markdown: str | None
    deliveries: list[tuple[str, str, str | None]]  # (target, status, error)

    @property
    def finished(self) -> bool:
        """The run ended and each of its deliveries has its final outcome (delivered or failed): one
        being posted (`sending`) or waiting for a retry (`pending`) is not finished."""
        final = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)
        delivered_or_failed = all(status in final for _, status, _ in self.deliveries)
        return self.status != ActionRunStatus.RUNNING and delivered_or_failed


@dataclass(frozen=True)
class _Decision:
    skip: str | None = None  # a reason of pipeline.digests.REASONS
    markdown: str = ""
    cited: list[str] = field(default_factory=list)
    output: dict[str, Any] = field(default_factory=dict)


def claim_due_actions(deps: Deps, *, now: datetime | None = None) -> ActionOutcome:
    """Give new actions their first occurrence, then claim every due one and send its run."""
    now = now or deps.now()
    outcome = ActionOutcome()
    _schedule_new(deps, now, outcome)
    with deps.read() as session:
        due = list(due_actions(session, now))
    for action in due:
        assert action.next_run_at is not None  # due_actions compares it with now, which NULL never passes
        scheduled_at = as_utc(action.next_run_at)
        try:
            upcoming = rules.next_run(action.trigger_config, as_utc(action.created_at), now)
        except InvalidField as exc:
            outcome.invalid += 1
            log.warning("action_schedule_invalid", action=action.name, error=str(exc))
            continue
        run_id = claim_occurrence(deps, action.id, scheduled_at, upcoming, now=now)
        if run_id is None:
            continue
        deps.sender().send(RUN_ACTION, str(run_id))
        outcome.claimed += 1
        upcoming_at = upcoming.isoformat() if upcoming else None
        log.info(
            "action_claimed",
            action=action.name,
            scheduled_at=scheduled_at.isoformat(),
            next_run_at=upcoming_at,
        )
    return outcome


def claim_occurrence(
    deps: Deps,
    action_id: UUID,
    scheduled_at: datetime,
    upcoming: datetime | None,
    *,
    now: datetime | None = None,
) -> UUID | None:
    """Advance the schedule and insert the run together; None when another scheduler claimed it."""
    now = now or deps.now()
    try:
        with deps.transaction() as session:
            if not set_next_run(session, action_id, scheduled_at, upcoming, last_run_at=scheduled_at):
                return None
            run = ActionRun(
                action_id=action_id, scheduled_at=scheduled_at, started_at=now, created_at=now, updated_at=now
            )
            session.add(run)
            session.flush()
            return run.id
    except IntegrityError:
        return None


def run_action(deps: Deps, run_id: UUID, *, now: datetime | None = None) -> RunResult:
    """Decide and write one run, then send its deliveries; see the module docstring."""
    now = now or deps.now()
    decided = None
    with deps.read() as session:
        run = session.get(ActionRun, run_id)
        if run is None:
            return RunResult("missing", [])
        action = session.get(VisionAction, run.action_id)
        undecided = run.status == RUNNING and run.synthesized_markdown is None
        if undecided and action is not None and action.enabled:
            decided = _decide(deps, session, action, run)
    result = _write(deps, run_id, decided, now)
    deps.sender().send_each(DELIVER, result.deliveries)
    return result


def _schedule_new(deps: Deps, now: datetime, outcome: ActionOutcome) -> None:
    with deps.transaction() as session:
        for action in unscheduled_actions(session):
            try:
                upcoming = rules.next_run(action.trigger_config, as_utc(action.created_at), now)
            except InvalidField as exc:
                outcome.invalid += 1
                log.warning("action_schedule_invalid", action=action.name, error=str(exc))
                continue
            if upcoming is not None and set_next_run(session, action.id, None, upcoming):
                outcome.scheduled += 1


def _write(deps: Deps, run_id: UUID, decided: _Decision | None, now: datetime) -> RunResult:
    with deps.transaction() as session:
        run = session.get(ActionRun, run_id, with_for_update=True)
        if run is None:
            return RunResult("missing", [])
        if run.status != RUNNING:  # another delivery of the message finished it
            return RunResult(str(run.status), _pending(session, run.id))
        action = session.get(VisionAction, run.action_id)
        if action is None or not action.enabled:
            return _skip(session, run, now, "not_found" if action is None else "disabled")
        if run.synthesized_markdown is None:
            decision = decided or _decide(deps, session, action, run)
            if decision.skip:
                run.output = decision.output or run.output
                return _skip(session, run, now, decision.skip)
            run.synthesized_markdown, run.observation_ids = decision.markdown, decision.cited
            run.observation_count = len(decision.cited)
            rendered = slack_output(decision.markdown, decision.cited, deps.settings.site_url)
            run.output = {**rendered, **decision.output}
        _finish(run, COMPLETED, now)
        session.add(run)
        _add_deliveries(session, run, action, now)
        session.flush()
        return RunResult(str(COMPLETED), _pending(session, run.id))


def _skip(session: Session, run: ActionRun, now: datetime, reason: str) -> RunResult:
    _finish(run, SKIPPED, now, skip_note(reason))
    session.add(run)
    return RunResult(str(SKIPPED), [])


def _finish(run: ActionRun, status: ActionRunStatus, now: datetime, error: str | None = None) -> None:
    run.status, run.completed_at, run.updated_at, run.error = status, now, now, error


def _add_deliveries(session: Session, run: ActionRun, action: VisionAction, now: datetime) -> None:
    for target in action.delivery_config or []:
        key = rules.target_key(target)
        if not delivery_exists(session, run.id, key):
            session.add(Delivery(action_run_id=run.id, target=key, created_at=now, updated_at=now))


def _pending(session: Session, run_id: UUID) -> list[UUID]:
    return [row.id for row in run_deliveries(session, run_id, DeliveryStatus.PENDING)]


def _decide(deps: Deps, session: Session, action: VisionAction, run: ActionRun) -> _Decision:
    scheduled = as_utc(run.scheduled_at)
    scanner = session.get(Scanner, action.scanner_id)
    title = digest_title(scanner.name if scanner else action.name)
    if str(action.mode) == "alert":
        return _alert(session, action, scheduled, title)
    return _digest(deps, session, action, scheduled, title)


def _digest(deps: Deps, session: Session, action: VisionAction, scheduled: datetime, title: str) -> _Decision:
    previous = previous_completed(session, action.id, scheduled)
    start, end = rules.window(as_utc(previous.scheduled_at) if previous else None, scheduled)
    rows = _selected(session, action, start, end)
    if not rows:
        return _Decision(skip="skipped_empty")
    sample = rules.sample_evenly(rows)
    timezone = (action.trigger_config or {}).get("timezone") or "UTC"
    synthesised, prompt = _synthesise(deps, session, action, sample)
    markdown = digest_markdown(title, sample, len(rows), start, timezone, synthesised)
    output: dict[str, Any] = {"window": [start.isoformat(), end.isoformat()]}
    if prompt is not None:
        output["prompt"] = prompt  # the library prompt's version the model was given
    return _Decision(markdown=markdown, cited=[str(row.id) for row in sample], output=output)


def _alert(session: Session, action: VisionAction, scheduled: datetime, title: str) -> _Decision:
    config = action.alert_config or {}
    start = alert_since(config, scheduled)
    rows = _selected(session, action, start, scheduled)
    previous = previous_evaluated(session, action.id, scheduled)
    breached_before = bool((previous.output or {}).get("breached")) if previous else False
    since = as_utc(previous.scheduled_at) if previous else start
    new_rows = [row for row in rows if as_utc(row.completed_at) >= since]
    result = rules.evaluate_alert(config, rows, previously_breached=breached_before, new_rows=new_rows)
    output = {"breached": result.breached, "value": result.value}
    if not result.fires:
        return _Decision(skip=result.reason, output=output)
    chosen = new_rows if config.get("frequency") == "every_match" else rows
    shown = rules.sample_evenly(chosen, cap=ALERT_EXAMPLES)
    markdown = alert_markdown(title, config, result.value, shown)
    return _Decision(markdown=markdown, cited=[str(row.id) for row in shown], output=output)


def _selected(session: Session, action: VisionAction, start: datetime, end: datetime) -> list[Any]:
    """The succeeded observations of the action's scanners completed in [start, end) that it selects."""
    selection = action.selection or {}
    ids = [UUID(str(item)) for item in selection.get("scanner_ids") or [str(action.scanner_id)]]
    rows = completed_between(session, ids, start, end)
    return [row for row in rows if rules.matches(selection, row)]


def _synthesise(
    deps: Deps, session: Session, action: VisionAction, sample: list[Any]
) -> tuple[str | None, dict[str, Any] | None]:
    """The model's digest, or None (no key, or the model failed: the extractive digest is used),
    and the library prompt it was guided by (`prompt_ref` resolved now), if any."""
    if deps.settings.gemini_api_key is None:
        return None, None
    guide, prompt = _guide(session, action)
    try:
        language = (action.synthesis_config or {}).get("language")
        reply = deps.gemini().generate(synthesis_call(deps.settings.signals_model, guide, sample, language))
        return parse_synthesis(reply.text), prompt
    except SightlineError as exc:
        log.warning("digest_synthesis_fallback", action=action.name, error=type(exc).__name__)
        return None, None


def _guide(session: Session, action: VisionAction) -> tuple[str | None, dict[str, Any] | None]:
    """The digest's guide: its own `prompt_guide`, or the text of the library prompt it names (with
    what it resolved to). A prompt that no longer resolves guides nothing, with a warning."""
    config = action.synthesis_config or {}
    ref = config.get("prompt_ref")
    if ref is None:
        return config.get("prompt_guide"), None
    try:
        resolved = resolve(session, action.team_id, ref, "synthesis_config.prompt_ref")
    except InvalidField as exc:
        log.warning("digest_prompt_unresolved", action=action.name, error=str(exc))
        return None, None
    return resolved.text, frozen_ref(resolved, ref.get("version", LATEST))


def run_progress(deps: Deps, run_id: UUID) -> RunProgress:
    """A run's status and its deliveries'; `NotFoundError` for an unknown run."""
    with deps.read() as session:
        run = session.get(ActionRun, run_id)
        if run is None:
            raise NotFoundError(f"no action run {run_id}")
        deliveries = [(row.target, str(row.status), row.error) for row in run_deliveries(session, run_id)]
        return RunProgress(str(run.status), run.error, run.synthesized_markdown, deliveries)


def wait_for_run(deps: Deps, run_id: UUID, timeout_s: float, poll_s: float = 0.5) -> RunProgress | None:
    """The run's progress once it and each of its deliveries finished (`RunProgress.finished`); None
    after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        progress = run_progress(deps, run_id)
        if progress.finished:
            return progress
        time.sleep(poll_s)
    return None
