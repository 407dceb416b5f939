"""`run_action(action_run_id)` (queue `actions`) and `deliver(delivery_id)` (queue `deliver`), DESIGN §8."""

from __future__ import annotations

from uuid import UUID

import dramatiq
import structlog
from dramatiq.middleware import CurrentMessage

from actors.action_work import deliver_one, process_run
from actors.broker import redis_client
from integrations.delivery import DeliveryTransient
from integrations.storage import database
from models import Delivery, DeliveryStatus, session_scope
from settings import get_settings

log = structlog.get_logger(__name__)
DELIVERY_RETRIES = 5


@dramatiq.actor(queue_name="actions", max_retries=3, min_backoff=10_000, time_limit=10 * 60 * 1000)
def run_action(action_run_id: str) -> None:
    settings = get_settings()
    for delivery_id in process_run(settings, database(settings).sessions, UUID(action_run_id)):
        deliver.send(str(delivery_id))


@dramatiq.actor(queue_name="deliver", max_retries=DELIVERY_RETRIES, min_backoff=2_000, max_backoff=60_000)
def deliver(delivery_id: str) -> None:
    settings = get_settings()
    sessions = database(settings).sessions
    try:
        status = deliver_one(settings, sessions, redis_client(settings), UUID(delivery_id))
    except DeliveryTransient as exc:
        message = CurrentMessage.get_current_message()
        retries = int(message.options.get("retries", 0)) if message is not None else DELIVERY_RETRIES
        if retries < DELIVERY_RETRIES:
            raise  # Dramatiq retries with backoff
        with session_scope(sessions) as session:
            row = session.get(Delivery, UUID(delivery_id))
            if row is not None and row.status == DeliveryStatus.PENDING:
                row.status = DeliveryStatus.FAILED
                row.error = f"gave up after {retries + 1} attempts: {exc}"[:1000]
                session.add(row)
        status = "failed"
    log.info("delivery_done", delivery_id=delivery_id, status=status)
