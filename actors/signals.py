"""`group_signals(team_id)` and `summarize_report(report_id)` (queue `signals`, DESIGN §7)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import dramatiq
import structlog

from actors.action_work import card_for_ready_report
from actors.broker import redis_client
from actors.grouping import group_team, summarize
from integrations.storage import database
from models import SignalReport, session_scope
from settings import get_settings

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="signals", max_retries=3, min_backoff=5_000, time_limit=30 * 60 * 1000)
def group_signals(team_id: int) -> None:
    settings = get_settings()
    result = group_team(settings, database(settings).sessions, redis_client(settings), int(team_id),
                        on_promoted=lambda report_id: summarize_report.send(str(report_id)))  # fmt: skip
    log.info("signals_grouped", team_id=team_id, grouped=result.grouped, founded=result.founded,
             joined=result.joined, asked=result.asked, promoted=len(result.promoted or []),
             busy=result.busy, paused=result.paused)  # fmt: skip


@dramatiq.actor(queue_name="signals", max_retries=3, min_backoff=5_000, time_limit=30 * 60 * 1000)
def summarize_report(report_id: str) -> None:
    settings = get_settings()
    sessions = database(settings).sessions
    status = summarize(settings, sessions, UUID(report_id))
    card = None
    if status == "ready":  # one Slack card per report, ever (a unique delivery row)
        with session_scope(sessions) as session:
            report = session.get(SignalReport, UUID(report_id))
            card = card_for_ready_report(session, report, datetime.now(UTC))
        if card is not None:
            from actors.actions import deliver

            deliver.send(str(card))
    log.info("report_summarized", report_id=report_id, status=status, card=bool(card))
