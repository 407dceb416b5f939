"""`group_signals(team_id)` and `summarize_report(report_id)` (queue `signals`, DESIGN §7)."""

from __future__ import annotations

from uuid import UUID

import dramatiq
import structlog

from actors.broker import redis_client
from actors.grouping import group_team, summarize
from integrations.storage import database
from settings import get_settings

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="signals", max_retries=3, min_backoff=5_000, time_limit=30 * 60 * 1000)
def group_signals(team_id: int) -> None:
    settings = get_settings()
    result = group_team(settings, database(settings).sessions, redis_client(settings), int(team_id))
    for report_id in result.promoted or []:
        summarize_report.send(str(report_id))
    log.info("signals_grouped", team_id=team_id, grouped=result.grouped, founded=result.founded,
             joined=result.joined, asked=result.asked, promoted=len(result.promoted or []),
             busy=result.busy, paused=result.paused)  # fmt: skip


@dramatiq.actor(queue_name="signals", max_retries=3, min_backoff=5_000, time_limit=30 * 60 * 1000)
def summarize_report(report_id: str) -> None:
    settings = get_settings()
    status = summarize(settings, database(settings).sessions, UUID(report_id))
    log.info("report_summarized", report_id=report_id, status=status)
