"""Deliveries (DESIGN §8): one message to one target, once, and the one Slack card of a ready report.

A delivery posts only while its row is not `delivered`: it is claimed pending → sending (one poster
at a time; a lease, renewed while the post runs, lets another worker take over a post whose worker
died), posted, then marked delivered. A post may land unrecorded (Slack answered after the client's
timeout; the worker died after the target took it and before that commit), so every attempt after
the first says so to the adapter (`Attempt.retry_since`): a Slack post first looks for its delivery
id in the channel and, found, is marked delivered with that message's ts. A webhook receiver gets
the same delivery id on every attempt to drop a repeat; a Slack incoming webhook cannot be asked and
may show a repeat.

A Slack channel takes one message a second across every worker: a delivery whose channel is busy
is not posted, and says how long to wait (`DeliveryOutcome.wait_ms`) so that its actor sends it
again with that delay instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from integrations.delivery import Attempt, ChannelPacer, post_to
from models import ActionRun, Delivery, DeliveryStatus, SignalReport, VisionAction, as_utc
from models.action_queries import claim_delivery, move_delivery, renew_delivery, team_integrations
from models.signal_queries import claim_notice, report_signals
from pipeline.actions import target_key
from pipeline.errors import DeliveryRejected, DeliveryTransient, InvalidField
from pipeline.names import DELIVER
from pipeline.slack_text import report_card
from services.context import Deps
from services.heartbeat import BEATS_PER_LEASE, heartbeat
from services.secrets import plaintext_target
from settings import Settings

log = structlog.get_logger(__name__)
PENDING, SENDING = DeliveryStatus.PENDING, DeliveryStatus.SENDING
DELIVERED, FAILED = DeliveryStatus.DELIVERED, DeliveryStatus.FAILED
MAX_ERROR = 1_000
CARD_SIGNALS = 100  # the newest signals whose scanners a card names


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str  # delivered | failed | sending | pending | missing | paced
    wait_ms: int = 0  # paced: try again after this long


def deliver(deps: Deps, delivery_id: UUID, *, now: datetime | None = None) -> DeliveryOutcome:
    """Post one delivery unless it was delivered already, or another worker is posting it.

    A target that refuses fails the row with our message. Raises `DeliveryTransient` when the
    target may take it later: the row is `pending` again, with the error noted.
    """
    now = now or deps.now()
    try:
        prepared = _prepare(deps, delivery_id)
    except DeliveryRejected as exc:
        return _fail(deps, delivery_id, (PENDING, SENDING), exc)
    if isinstance(prepared, DeliveryOutcome):
        return prepared
    message, target = prepared
    wait_ms = _pace(deps, target)  # the channel's turn first: a paced delivery is not claimed
    if wait_ms:
        return DeliveryOutcome("paced", wait_ms)
    with deps.transaction() as session:
        claimed = claim_delivery(session, delivery_id, deps.now(), deps.settings.delivery_lease_s)
        held = _attempt(session, delivery_id) if claimed else None
    if held is None:
        with deps.read() as session:
            row = session.get(Delivery, delivery_id)
            return DeliveryOutcome(str(row.status) if row else "missing")
    number, attempt = held
    with heartbeat(
        lambda: _renew(deps, delivery_id, number),
        every_s=deps.settings.delivery_lease_s / BEATS_PER_LEASE,
        name="delivery-lease",
        delivery_id=str(delivery_id),
    ):
        return _post(deps, delivery_id, target, message, now, attempt)


def _attempt(session: Session, delivery_id: UUID) -> tuple[int, Attempt]:
    """This attempt of a claimed delivery (its number, and what the adapter is told): one after the
    first (counted, or after an error an operator retried) may find that an earlier one posted, since
    the row was created."""
    row = session.get_one(Delivery, delivery_id)
    tried_before = row.attempts > 1 or row.error is not None
    return row.attempts, Attempt(str(delivery_id), as_utc(row.created_at) if tried_before else None)


def _renew(deps: Deps, delivery_id: UUID, attempt: int) -> bool:
    with deps.transaction() as session:
        return renew_delivery(session, delivery_id, attempt, deps.now())


def retry_delivery(deps: Deps, delivery_id: UUID | str) -> bool:
    """Send a failed delivery again (an operator fixed the token or the channel): failed → pending
    with its attempts reset, then the `deliver` message. False when it is not failed (nothing done).
    `InvalidField` for an id that is not a UUID."""
    key = _delivery_uuid(delivery_id)
    with deps.transaction() as session:
        moved = move_delivery(session, key, (FAILED,), deps.now(), status=PENDING, attempts=0)
    if moved:
        deps.sender().send(DELIVER, str(key))
        log.info("delivery_retried", delivery_id=str(key))
    return moved


def _delivery_uuid(value: UUID | str) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError as exc:
        raise InvalidField("delivery", f"{value!r} is not a delivery id") from exc


def give_up(deps: Deps, delivery_id: UUID, attempts: int) -> bool:
    """Fail a delivery whose retries ran out, with the last error; False when it is not pending."""
    with deps.transaction() as session:
        row = session.get(Delivery, delivery_id)
        if row is None or row.status != PENDING:
            return False
        reason = f"gave up after {attempts} attempts" + (f": {row.error}" if row.error else "")
        row.status, row.error, row.updated_at = FAILED, reason[:MAX_ERROR], deps.now()
        session.add(row)
    log.warning("delivery_gave_up", delivery_id=str(delivery_id), attempts=attempts)
    return True


def card_for_ready_report(session: Session, report: SignalReport, now: datetime) -> UUID | None:
    """One card per report, ever: `notified_at` is set once (conditionally), then one Delivery row to
    the report channel of the team's first Slack integration. None when there is nothing to send."""
    integrations = team_integrations(session, report.team_id)
    if not integrations:
        return None
    integration = integrations[0]
    channel = (integration.config or {}).get("report_channel")
    if not channel or not claim_notice(session, report.id, now):  # no channel, or carded before
        return None
    target = f"slack:{integration.id}:{channel}"
    delivery = Delivery(report_id=report.id, target=target, created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(delivery)
    except IntegrityError:
        return None
    return delivery.id


def _pace(deps: Deps, target: dict[str, Any]) -> int:
    if target.get("type") not in ("slack", "slack_webhook"):
        return 0
    pacer = ChannelPacer(deps.redis(), deps.settings.redis_namespace)
    return pacer.take_turn(str(target.get("channel") or target_key(target)))


def _post(
    deps: Deps,
    delivery_id: UUID,
    target: dict[str, Any],
    message: dict[str, Any],
    now: datetime,
    attempt: Attempt,
) -> DeliveryOutcome:
    try:
        external = post_to(target, message, deps.settings, now, attempt)
    except DeliveryRejected as exc:
        log.warning("delivery_failed", delivery_id=str(delivery_id), target=target_key(target))
        return _fail(deps, delivery_id, (SENDING,), exc)
    except DeliveryTransient as exc:
        _move(deps, delivery_id, (SENDING,), status=PENDING, error=str(exc)[:MAX_ERROR])
        raise
    except BaseException:
        _move(deps, delivery_id, (SENDING,), status=PENDING)
        raise
    # A crash before this commit leaves the row `sending`, taken over after its lease by an attempt
    # that looks for this post first (Slack) or repeats its delivery id (webhooks).
    delivered = {"external_id": external, "delivered_at": deps.now(), "error": None}
    _move(deps, delivery_id, (SENDING,), status=DELIVERED, **delivered)
    return DeliveryOutcome("delivered")


def _fail(deps: Deps, delivery_id: UUID, source: Sequence[DeliveryStatus], exc: Exception) -> DeliveryOutcome:
    _move(deps, delivery_id, source, status=FAILED, error=str(exc)[:MAX_ERROR])
    return DeliveryOutcome("failed")


def _move(deps: Deps, delivery_id: UUID, source: Sequence[DeliveryStatus], **values: Any) -> bool:
    with deps.transaction() as session:
        return move_delivery(session, delivery_id, source, deps.now(), **values)


def _prepare(deps: Deps, delivery_id: UUID) -> DeliveryOutcome | tuple[dict[str, Any], dict[str, Any]]:
    """The message and its target; or the outcome, when the delivery is missing or finished."""
    with deps.read() as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            return DeliveryOutcome("missing")
        if delivery.status in (DELIVERED, FAILED):
            return DeliveryOutcome(str(delivery.status))
        return _message(session, delivery, deps.settings)


def _message(
    session: Session, delivery: Delivery, settings: Settings
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What to send and where, the target's secrets decrypted and a Slack target with its
    integration's token (`services.secrets.plaintext_target`).

    Raises `DeliveryRejected` when that integration no longer exists or the key cannot decrypt.
    """
    if delivery.action_run_id is not None:
        message, target = _run_message(session, delivery)
    else:
        message, target = _card_message(session, delivery)
    return message, plaintext_target(session, settings, target)


def _run_message(session: Session, delivery: Delivery) -> tuple[dict[str, Any], dict[str, Any]]:
    run = session.get_one(ActionRun, delivery.action_run_id)
    action = session.get_one(VisionAction, run.action_id)
    targets = {target_key(target): target for target in action.delivery_config or []}
    message = {
        "kind": "action_run",
        "run_id": str(run.id),
        "action": action.name,
        "scheduled_at": run.scheduled_at.isoformat(),
        "markdown": run.synthesized_markdown,
        "observation_count": run.observation_count,
        **(run.output or {}),
    }
    return message, dict(targets.get(delivery.target) or {"type": "log"})


def _card_message(session: Session, delivery: Delivery) -> tuple[dict[str, Any], dict[str, Any]]:
    report = session.get_one(SignalReport, delivery.report_id)
    _, integration_id, channel = delivery.target.split(":", 2)
    names = [
        (signal.extra or {}).get("scanner_name")
        for signal in report_signals(session, report.id, CARD_SIGNALS)
    ]
    text = report_card(report.title, report.summary, report.total_weight, report.signal_count, names)
    message = {
        "kind": "report",
        "report_id": str(report.id),
        "slack": text,
        "slack_blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }
    return message, {"type": "slack", "integration_id": integration_id, "channel": channel}
