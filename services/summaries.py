"""Summarising a promoted report (DESIGN §7): candidate → in_progress → ready, with a title and summary.

The summary is written (by Gemini, or extractively without a key or a judge) outside any row lock;
the lock is taken to move the report. When signals joined the report meanwhile, the run goes round
again (candidate → in_progress, the gate raised), at most `MAX_SUMMARY_LOOPS` times. A report that
becomes ready gets its one Slack card, ever, when the team has a report channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog

from models import ReportStatus, SignalReport
from models.signal_queries import report_signals
from pipeline.errors import SightlineError
from pipeline.names import DELIVER
from pipeline.report_text import MAX_SUMMARY_SIGNALS, extractive_summary, parse_summary, summary_call
from pipeline.reports import SIGNALS_AT_RUN_INCREMENT, transition
from services.context import Deps
from services.delivery import card_for_ready_report

log = structlog.get_logger(__name__)
MAX_SUMMARY_LOOPS = 10


@dataclass(frozen=True)
class Summarized:
    status: str | None  # ready; the status the report moved to meanwhile; None: it was not a candidate
    card: UUID | None = None  # the report card's delivery, sent


def summarize_report(deps: Deps, report_id: UUID, *, resume: bool = False) -> Summarized:
    """Summarise a candidate report and make it ready (see the module docstring).

    `resume`: this is a retry of a run that failed part-way (the database went away, say), so a
    report it left `in_progress` is summarised from there, and one it made ready gets its card if
    that was not sent; without it, only a candidate is taken (another run may hold the report)."""
    status = _summarize(deps, report_id, resume)
    if status is None and resume:
        with deps.read() as session:
            report = session.get(SignalReport, report_id)
            status = "ready" if report is not None and report.status == ReportStatus.READY else None
    if status != "ready":
        return Summarized(status)
    with deps.transaction() as session:
        card = card_for_ready_report(session, session.get_one(SignalReport, report_id), deps.now())
    if card is not None:
        deps.sender().send(DELIVER, str(card))
    return Summarized(status, card)


def _summarize(deps: Deps, report_id: UUID, resume: bool) -> str | None:
    seen = _start_run(deps, report_id, resume)
    if seen is None:
        return None
    for loop in range(MAX_SUMMARY_LOOPS):
        with deps.read() as session:
            title_now = session.get_one(SignalReport, report_id).title
            rows = report_signals(session, report_id, MAX_SUMMARY_SIGNALS)
            signals = [(signal.description, dict(signal.extra or {})) for signal in rows]
        title, summary = _write_summary(deps, title_now, signals)
        with deps.transaction() as session:
            report = session.get(SignalReport, report_id, with_for_update=True)
            if report is None or report.status != ReportStatus.IN_PROGRESS:
                return str(report.status) if report else None
            moment = deps.now()
            if report.signal_count > seen and loop < MAX_SUMMARY_LOOPS - 1:  # signals joined meanwhile
                _apply(report, transition(report, "candidate", now=moment))
                _apply(
                    report, transition(report, "in_progress", now=moment, increment=SIGNALS_AT_RUN_INCREMENT)
                )
                seen = report.signal_count
                session.add(report)
                continue
            _apply(report, transition(report, "ready", now=moment, title=title, summary=summary))
            session.add(report)
            return "ready"
    return None


def _start_run(deps: Deps, report_id: UUID, resume: bool) -> int | None:
    """candidate → in_progress; the signal count it starts from, or None when it is not a candidate
    (an `in_progress` report is taken as it is when the run resumes)."""
    with deps.transaction() as session:
        report = session.get(SignalReport, report_id, with_for_update=True)
        if report is not None and resume and report.status == ReportStatus.IN_PROGRESS:
            return report.signal_count
        if report is None or report.status != ReportStatus.CANDIDATE:
            return None
        _apply(report, transition(report, "in_progress", now=deps.now(), increment=SIGNALS_AT_RUN_INCREMENT))
        session.add(report)
        return report.signal_count


def _write_summary(
    deps: Deps, title: str | None, signals: list[tuple[str, dict[str, Any]]]
) -> tuple[str, str]:
    """Title and summary by the model; extractive without a key or a judge, or when the model fails."""
    settings = deps.settings
    if settings.gemini_api_key is not None and settings.grouping_judge != "none" and signals:
        call = summary_call(settings.signals_model, title, [description for description, _ in signals])
        try:
            return parse_summary(deps.gemini().generate(call).text)
        except SightlineError as exc:
            log.warning("report_summary_fallback", error=type(exc).__name__)
    return extractive_summary(title, signals)


def _apply(report: SignalReport, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(report, name, value)
