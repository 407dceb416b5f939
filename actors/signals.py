"""`group_signals(team_id)` and `summarize_report(report_id)` (queue `signals`, DESIGN §7).

Dramatiq retries what may pass (an embedding request that failed transiently, the database), with
the routes' backoff; permanent errors are thrown, not retried.
"""

from __future__ import annotations

from dataclasses import asdict
from uuid import UUID

import dramatiq
import structlog
from dramatiq.middleware import CurrentMessage

from actors.broker import process_deps
from pipeline.errors import PermanentError
from pipeline.names import GROUP_SIGNALS, SUMMARIZE_REPORT
from services import signals, summaries

log = structlog.get_logger(__name__)


@dramatiq.actor(**GROUP_SIGNALS.actor_options(), throws=(PermanentError,))
def group_signals(team_id: int) -> None:
    result = signals.group_signals(process_deps(), int(team_id))
    facts = {**asdict(result), "promoted": len(result.promoted)}
    log.info("signals_grouped", team_id=team_id, **facts)


@dramatiq.actor(**SUMMARIZE_REPORT.actor_options(), throws=(PermanentError,))
def summarize_report(report_id: str) -> None:
    # A retried message resumes what its failed attempt left (a report in progress, a missing card).
    message = CurrentMessage.get_current_message()
    resume = bool(message is not None and message.options.get("retries", 0))
    result = summaries.summarize_report(process_deps(), UUID(report_id), resume=resume)
    log.info("report_summarized", report_id=report_id, status=result.status, card=result.card is not None)
