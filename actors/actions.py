"""`run_action(action_run_id)` (queue `actions`) and `deliver(delivery_id)` (queue `deliver`), DESIGN §8.

Dramatiq retries what may pass, with the routes' backoff: a delivery whose target failed
transiently (`DeliveryTransient`) and any unexpected failure. When a delivery's retries run out,
the Retries middleware sends its message to `delivery_gave_up`, which fails the row with its last
error. Permanent errors are thrown, not retried. A delivery whose Slack channel is busy is sent
again with the wait as its delay, keeping its retry count: no worker thread sleeps for a turn.
"""

from __future__ import annotations

from uuid import UUID

import dramatiq
import structlog
from dramatiq import Retry
from dramatiq.middleware import CurrentMessage

from actors.broker import process_deps
from pipeline.errors import DeliveryTransient, PermanentError
from pipeline.names import DELIVER, DELIVERY_GAVE_UP, RUN_ACTION
from services import action_runs, delivery

log = structlog.get_logger(__name__)
RETRY_OPTIONS = ("retries", "max_retries", "min_backoff", "max_backoff")


@dramatiq.actor(**RUN_ACTION.actor_options(), throws=(PermanentError,))
def run_action(action_run_id: str) -> None:
    result = action_runs.run_action(process_deps(), UUID(action_run_id))
    sent = len(result.deliveries)
    log.info("action_run_done", action_run_id=action_run_id, status=result.status, deliveries=sent)


@dramatiq.actor(**DELIVERY_GAVE_UP.actor_options(), throws=(PermanentError,))
def delivery_gave_up(message: dict, retries: dict) -> None:
    """`message` is the deliver message that ran out of retries; `retries` how many it had."""
    (delivery_id,) = message["args"]
    delivery.give_up(process_deps(), UUID(delivery_id), attempts=int(retries["retries"]) + 1)


@dramatiq.actor(
    **DELIVER.actor_options(), throws=(PermanentError,), on_retry_exhausted=DELIVERY_GAVE_UP.actor
)
def deliver(delivery_id: str) -> None:
    deps = process_deps()
    try:
        outcome = delivery.deliver(deps, UUID(delivery_id))
    except DeliveryTransient as exc:
        if exc.look_after_s is None:
            raise
        # A post that timed out may still land: its retry looks for it, but not before it could have.
        raise Retry(str(exc), delay=int(max(exc.look_after_s * 1000, DELIVER.min_backoff_ms))) from exc
    if outcome.wait_ms:  # the channel's turn is taken: come back then, without spending a retry
        deps.sender().send(DELIVER, delivery_id, delay_ms=outcome.wait_ms, **_retry_options())
    log.info("delivery_done", delivery_id=delivery_id, status=outcome.status)


def _retry_options() -> dict[str, object]:
    """The current message's retry count and limits, for the message that takes its place."""
    message = CurrentMessage.get_current_message()
    options = message.options if message is not None else {}
    return {key: options[key] for key in RETRY_OPTIONS if key in options}
