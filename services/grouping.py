"""Placing one signal (DESIGN §7): the decision (fingerprint, best cosine match, the judge) and the
one transaction that writes it with its report's weight, count and promotion check.

A signal whose best match is a deleted report is stored deleted; one matching a resolved report
joins the open successor a recurrence started, or founds one linked to it (resolved never reopens).
A report promoted to `candidate` gets its summary sent after that commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import numpy as np
from sqlmodel import Session

from models import ReportArtefact, ReportStatus, SignalReport
from models.signal_queries import mark_grouped, related_links, report_by_fingerprint, report_signals
from pipeline.embeddings import to_bytes
from pipeline.errors import SightlineError
from pipeline.grouping import Pool, Thresholds, decide, title_for
from pipeline.names import SUMMARIZE_REPORT
from pipeline.reports import promotion_due, transition
from services.context import Deps
from services.reports import refresh_inbox_columns

JUDGE_CONTEXT = 8  # the report's newest signals shown to the judge
CLOSED = (ReportStatus.RESOLVED, ReportStatus.DELETED, ReportStatus.SUPPRESSED)
Judge = Callable[[str, str | None, list[str]], tuple[bool, str]]


@dataclass
class GroupResult:
    grouped: int = 0
    founded: int = 0
    joined: int = 0
    asked: int = 0
    promoted: list[UUID] = field(default_factory=list)
    busy: bool = False  # another worker is grouping this team
    paused: bool = False


class _Skip(Exception):
    """Leave the transaction without committing: someone grouped this signal already."""


@dataclass
class Pending:
    id: UUID
    description: str
    weight: float
    extra: dict[str, Any]
    fingerprint: str | None


@dataclass
class Batch:
    """What the signals of one batch share: the pool of vectors they are scored against, and more."""

    deps: Deps
    team_id: int
    model: str
    pool: Pool
    thresholds: Thresholds
    judge: Judge | None
    since: datetime
    result: GroupResult
    # Fingerprints assigned earlier in this batch: they are not in the database's answer yet.
    fingerprints: dict[str, UUID] = field(default_factory=dict)


def assign(
    batch: Batch, signal: Pending, vector: np.ndarray, moment: datetime, row: int | None = None
) -> None:
    """Place one signal (`row` is its index in the batch's scores) in one transaction, unless it was
    grouped meanwhile; a promotion's summary is sent after the commit."""
    decision, target, meta = _decision(batch, signal, vector, row)
    result, promoted = batch.result, None
    values = {"embedding": to_bytes(vector), "embedding_model": batch.model, "grouped_at": moment}
    try:
        with batch.deps.transaction() as session:
            report = session.get(SignalReport, target, with_for_update=True) if decision == "join" else None
            if report is not None and report.status == ReportStatus.DELETED:
                meta["decision"] = "deleted_report"
                if not mark_grouped(
                    session, signal.id, report_id=report.id, deleted=True, match_metadata=meta, **values
                ):
                    raise _Skip
                result.grouped += 1
                return
            report, promoted = _place(session, batch, report, signal, moment, meta)
            if not mark_grouped(session, signal.id, report_id=report.id, match_metadata=meta, **values):
                raise _Skip
            if promotion_due(report):
                for name, value in transition(report, "candidate", now=moment).items():
                    setattr(report, name, value)
                promoted = report.id
            session.add(report)
            report_id = report.id
    except _Skip:
        return
    result.grouped += 1
    batch.pool.add(vector, report_id)
    if signal.fingerprint:
        batch.fingerprints[signal.fingerprint] = report_id
    if promoted is not None:
        result.promoted.append(promoted)
        batch.deps.sender().send(SUMMARIZE_REPORT, str(promoted))


def _by_fingerprint(batch: Batch, fingerprint: str) -> tuple[str, UUID | None, dict[str, Any]]:
    target = batch.fingerprints.get(fingerprint)
    if target is None:
        with batch.deps.read() as session:
            target = report_by_fingerprint(session, batch.team_id, fingerprint, batch.since)
    decision = "join" if target is not None else "new"
    return decision, target, {"zone": "fingerprint", "fingerprint": fingerprint, "decision": decision}


def _decision(
    batch: Batch, signal: Pending, vector: np.ndarray, row: int | None
) -> tuple[str, UUID | None, dict]:
    if signal.fingerprint:
        return _by_fingerprint(batch, signal.fingerprint)
    ranked = batch.pool.best(vector, row=row)
    score, target = (ranked[0][1], ranked[0][0]) if ranked else (None, None)
    decision = decide(score, batch.thresholds)
    meta: dict[str, Any] = {
        "score": round(score, 4) if score is not None else None,
        "candidates": [[str(report), round(value, 4)] for report, value in ranked],
        "thresholds": [batch.thresholds.match, batch.thresholds.new],
        "zone": decision,
    }
    if decision == "ask" and target is not None:  # "ask" comes with a score, so with a candidate
        decision, meta["judge"] = _ask(batch, signal, target)
    meta["decision"] = decision
    return decision, target, meta


def _ask(batch: Batch, signal: Pending, target: UUID) -> tuple[str, str]:
    """The judge's decision for a gray-zone match; without a judge, or when it fails, the signal joins."""
    if batch.judge is None:
        return "join", "none configured: joined"
    batch.result.asked += 1
    with batch.deps.read() as session:
        report = session.get(SignalReport, target)
        members = [s.description for s in report_signals(session, target, JUDGE_CONTEXT)]
        title = report.title if report else None
    try:
        same, reason = batch.judge(signal.description, title, members)
    except SightlineError as exc:
        same, reason = True, f"judge unavailable ({type(exc).__name__}): joined"
    return ("join" if same else "new"), reason


def _place(
    session: Session, batch: Batch, report: SignalReport | None, signal: Pending, moment: datetime, meta: dict
) -> tuple[SignalReport, UUID | None]:
    """The report the signal goes to (founded when `report` is None) and, if it is a candidate still
    waiting for its summary, its id: the summary is sent again, which heals a lost send."""
    if report is not None and report.status == ReportStatus.RESOLVED:
        return _after_resolved(session, report, signal, moment, meta, batch.result), None
    if report is None:
        title = title_for(signal.description, signal.extra.get("headline"))
        report = _new_report(batch.team_id, title, None, signal.weight, moment)
        session.add(report)
        session.flush()
        batch.result.founded += 1
        return report, None
    _add_weight(report, signal.weight, moment)
    batch.result.joined += 1
    return report, report.id if report.status == ReportStatus.CANDIDATE else None


def _add_weight(report: SignalReport, weight: float, moment: datetime) -> None:
    report.total_weight += weight
    report.signal_count += 1
    report.updated_at = moment


def _after_resolved(
    session: Session,
    resolved: SignalReport,
    signal: Pending,
    moment: datetime,
    meta: dict,
    result: GroupResult,
) -> SignalReport:
    """Resolved never reopens: the signal joins the open successor an earlier recurrence started,
    or founds one linked to the resolved report."""
    meta["related_to"] = str(resolved.id)
    successor = _live_successor(session, resolved)
    if successor is None:
        meta["decision"] = "resolved_report"
        result.founded += 1
        return _successor(session, resolved, signal.weight, moment)
    meta["decision"] = "resolved_successor"
    _add_weight(successor, signal.weight, moment)
    result.joined += 1
    return successor


def _live_successor(session: Session, resolved: SignalReport) -> SignalReport | None:
    """The newest report a recurrence started after `resolved`, if it is still open."""
    candidates = []
    for link in related_links(session, resolved.id):
        try:
            other_id = UUID(str((link.content or {}).get("report_id")))
        except ValueError:
            continue
        other = session.get(SignalReport, other_id, with_for_update=True)
        if other is not None and other.created_at >= resolved.created_at and other.status not in CLOSED:
            candidates.append(other)
    return max(candidates, key=lambda report: report.created_at) if candidates else None


def _successor(session: Session, resolved: SignalReport, weight: float, moment: datetime) -> SignalReport:
    """A signal matching a resolved report founds a new one linked to it (resolved never reopens)."""
    report = _new_report(resolved.team_id, resolved.title, resolved.summary, weight, moment)
    session.add(report)
    session.flush()
    for source, other in ((report, resolved), (resolved, report)):
        content = {"report_id": str(other.id)}
        session.add(
            ReportArtefact(
                team_id=source.team_id,
                report_id=source.id,
                type="related_to",
                content=content,
                created_at=moment,
            )
        )
        refresh_inbox_columns(session, source.id)
    return report


def _new_report(
    team_id: int, title: str | None, summary: str | None, weight: float, moment: datetime
) -> SignalReport:
    return SignalReport(
        team_id=team_id,
        title=title,
        summary=summary,
        total_weight=weight,
        signal_count=1,
        created_at=moment,
        updated_at=moment,
    )


def pending(signal: Any) -> Pending:
    return Pending(signal.id, signal.description, signal.weight, dict(signal.extra or {}), signal.fingerprint)
