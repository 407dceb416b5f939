"""The work behind `group_signals` and `summarize_report` (DESIGN §7), kept out of the actor module.

Grouping runs for one team at a time across all workers (a Redis lock per team); it takes the
team's ungrouped signals in arrival order, batch by batch, and assigns each in its own transaction:
the signal's report, its vector and `match_metadata`, the report's weight and count, and the
promotion check. A worker killed mid-batch leaves the rest ungrouped, and the next run redoes them;
a signal already grouped is never grouped again (the update is conditional on `grouped_at`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import numpy as np
import redis
import structlog
from redis.exceptions import LockError
from sqlmodel import select

from integrations.embeddings import embedder
from integrations.gemini import GeminiClient
from models import ReportArtefact, ReportStatus, SignalReport, session_scope
from models.signal_queries import (
    mark_grouped,
    paused_until,
    pool_rows,
    report_by_fingerprint,
    report_signals,
    ungrouped,
)
from pipeline.embeddings import from_bytes, to_bytes
from pipeline.errors import SightlineError
from pipeline.grouping import WINDOW_DAYS, Pool, decide, thresholds_for, title_for
from pipeline.report_text import (
    extractive_summary,
    judge_call,
    parse_judge,
    parse_summary,
    summary_call,
)
from pipeline.reports import SIGNALS_AT_RUN_INCREMENT, promotion_due, transition
from settings import Settings

log = structlog.get_logger(__name__)
BATCH = 200
LOCK_TTL_S = 120
MAX_SUMMARY_LOOPS = 10
JUDGE_CONTEXT = 8


@dataclass
class GroupResult:
    grouped: int = 0
    founded: int = 0
    joined: int = 0
    asked: int = 0
    promoted: list[UUID] | None = None
    busy: bool = False
    paused: bool = False


def _now() -> datetime:
    return datetime.now(UTC)


def _judge(settings: Settings) -> Callable[[str, str | None, list[str]], tuple[bool, str]] | None:
    if settings.grouping_judge == "none" or settings.gemini_api_key is None:
        return None
    client = GeminiClient.from_settings(settings)

    def ask(new: str, title: str | None, members: list[str]) -> tuple[bool, str]:
        return parse_judge(client.generate(judge_call(settings.signals_model, new, title, members)).text)

    return ask


class _Skip(Exception):
    """Leave the transaction without committing: someone grouped this signal already."""


@dataclass
class _Pending:
    id: UUID
    description: str
    weight: float
    extra: dict[str, Any]
    fingerprint: str | None


@dataclass
class _Run:
    """What one grouping pass over a batch shares."""

    sessions: Any
    team_id: int
    model: str
    pool: Pool
    thresholds: Any
    judge: Any
    since: datetime
    result: GroupResult
    # Fingerprints assigned earlier in this batch: they are not in the database's answer yet.
    fingerprints: dict[str, UUID] = field(default_factory=dict)
    # Called after each commit that promoted a report (or joined one still waiting as a candidate):
    # the summary is sent at once, so a pass that dies later loses no promotion.
    on_promoted: Callable[[UUID], None] | None = None


def group_team(settings: Settings, sessions, client: redis.Redis, team_id: int,
               now: Callable[[], datetime] = _now,
               on_promoted: Callable[[UUID], None] | None = None) -> GroupResult:  # fmt: skip
    result = GroupResult(promoted=[])
    lock = client.lock(f"{settings.redis_namespace}:sightline:group:{team_id}", timeout=LOCK_TTL_S,
                       blocking=False, thread_local=False)  # fmt: skip
    if not lock.acquire(blocking=False):
        result.busy = True
        return result
    try:
        embed = embedder(settings)
        thresholds = thresholds_for(embed.model, settings.grouping_thresholds)
        judge = _judge(settings)
        while True:
            moment = now()
            since = moment - timedelta(days=WINDOW_DAYS)
            with sessions() as session:
                if paused_until(session, team_id, moment) is not None:
                    result.paused = True
                    break
                batch = [_Pending(s.id, s.description, s.weight, dict(s.extra or {}), s.fingerprint)
                         for s in ungrouped(session, team_id, BATCH)]  # fmt: skip
                if not batch:
                    break
                rows = pool_rows(session, team_id, embed.model, since)
            vectors = embed.embed([signal.description for signal in batch])
            existing = np.stack([from_bytes(row.embedding) for row in rows]) if rows else None
            pool = Pool(embed.dimensions, existing, [row.report_id for row in rows])
            pool.score_batch(vectors)
            run = _Run(sessions, team_id, embed.model, pool, thresholds, judge, since, result,
                       on_promoted=on_promoted)  # fmt: skip
            for row, (signal, vector) in enumerate(zip(batch, vectors, strict=True)):
                lock.extend(LOCK_TTL_S, replace_ttl=True)
                _assign(run, signal, vector, now(), row)
    except LockError:
        log.warning("grouping_lock_lost", team_id=team_id)
    finally:
        with contextlib.suppress(LockError):
            lock.release()
    return result


def _by_fingerprint(run: _Run, signal: _Pending) -> tuple[str, UUID | None, dict[str, Any]]:
    target = run.fingerprints.get(signal.fingerprint)
    if target is None:
        with run.sessions() as session:
            target = report_by_fingerprint(session, run.team_id, signal.fingerprint, run.since)
    decision = "join" if target is not None else "new"
    return decision, target, {"zone": "fingerprint", "fingerprint": signal.fingerprint, "decision": decision}


def _decision(run: _Run, signal: _Pending, vector, row: int | None) -> tuple[str, UUID | None, dict]:
    if signal.fingerprint:
        return _by_fingerprint(run, signal)
    ranked = run.pool.best(vector, row=row)
    score = ranked[0][1] if ranked else None
    target = ranked[0][0] if ranked else None
    decision = decide(score, run.thresholds)
    meta: dict[str, Any] = {
        "score": round(score, 4) if score is not None else None,
        "candidates": [[str(report), round(value, 4)] for report, value in ranked],
        "thresholds": [run.thresholds.match, run.thresholds.new],
        "zone": decision,
    }
    if decision == "ask":
        if run.judge is None:
            decision, meta["judge"] = "join", "none configured: joined"
        else:
            run.result.asked += 1
            with run.sessions() as session:
                report = session.get(SignalReport, target)
                members = [s.description for s in report_signals(session, target, JUDGE_CONTEXT)]
                title = report.title if report else None
            try:
                same, reason = run.judge(signal.description, title, members)
            except SightlineError as exc:
                same, reason = True, f"judge unavailable ({type(exc).__name__}): joined"
            decision, meta["judge"] = ("join" if same else "new"), reason
    meta["decision"] = decision
    return decision, target, meta


def _assign(run: _Run, signal: _Pending, vector, moment: datetime, row: int | None = None) -> None:
    decision, target, meta = _decision(run, signal, vector, row)
    result, promoted = run.result, None
    try:
        with session_scope(run.sessions) as session:
            report = session.get(SignalReport, target, with_for_update=True) if decision == "join" else None
            values = {"embedding": to_bytes(vector), "embedding_model": run.model, "grouped_at": moment}
            if report is not None and report.status == ReportStatus.DELETED:
                meta["decision"] = "deleted_report"
                grouped = mark_grouped(
                    session, signal.id, report_id=report.id, deleted=True, match_metadata=meta, **values
                )
                if not grouped:
                    raise _Skip
                result.grouped += 1
                return
            if report is not None and report.status == ReportStatus.RESOLVED:
                report = _after_resolved(session, report, signal, moment, meta, result)
            elif report is None:
                report = SignalReport(
                    team_id=run.team_id, title=title_for(signal.description, signal.extra.get("headline")),
                    total_weight=signal.weight, signal_count=1, created_at=moment, updated_at=moment,
                )  # fmt: skip
                session.add(report)
                session.flush()
                result.founded += 1
            else:
                report.total_weight += signal.weight
                report.signal_count += 1
                report.updated_at = moment
                result.joined += 1
                if report.status == ReportStatus.CANDIDATE:
                    promoted = report.id  # still waiting for its summary: send it again (heals a lost send)
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
    run.pool.add(vector, report_id)
    if signal.fingerprint:
        run.fingerprints[signal.fingerprint] = report_id
    if promoted is not None:
        result.promoted.append(promoted)
        if run.on_promoted is not None:
            run.on_promoted(promoted)


def _after_resolved(session, resolved: SignalReport, signal: _Pending, moment: datetime, meta: dict,
                    result: GroupResult) -> SignalReport:  # fmt: skip
    """Resolved never reopens: the signal joins the open successor an earlier recurrence started,
    or founds one linked to the resolved report."""
    meta["related_to"] = str(resolved.id)
    successor = _live_successor(session, resolved)
    if successor is None:
        meta["decision"] = "resolved_report"
        result.founded += 1
        return _successor(session, resolved, signal.weight, moment)
    meta["decision"] = "resolved_successor"
    successor.total_weight += signal.weight
    successor.signal_count += 1
    successor.updated_at = moment
    result.joined += 1
    return successor


def _live_successor(session, resolved: SignalReport) -> SignalReport | None:
    """The newest report a recurrence started after `resolved`, if it is still open."""
    links = session.exec(
        select(ReportArtefact).where(
            ReportArtefact.report_id == resolved.id, ReportArtefact.type == "related_to"
        )
    ).all()
    candidates = []
    for link in links:
        try:
            other_id = UUID(str((link.content or {}).get("report_id")))
            other = session.get(SignalReport, other_id, with_for_update=True)
        except ValueError:
            continue
        if other is not None and other.created_at >= resolved.created_at and other.status not in (
            ReportStatus.RESOLVED, ReportStatus.DELETED, ReportStatus.SUPPRESSED,
        ):  # fmt: skip
            candidates.append(other)
    return max(candidates, key=lambda report: report.created_at) if candidates else None


def _successor(session, resolved: SignalReport, weight: float, moment: datetime) -> SignalReport:
    """A signal matching a resolved report founds a new one linked to it (resolved never reopens)."""
    report = SignalReport(
        team_id=resolved.team_id, title=resolved.title, summary=resolved.summary, total_weight=weight,
        signal_count=1, created_at=moment, updated_at=moment,
    )  # fmt: skip
    session.add(report)
    session.flush()
    for source, other in ((report, resolved), (resolved, report)):
        session.add(ReportArtefact(team_id=source.team_id, report_id=source.id, type="related_to",
                                   content={"report_id": str(other.id)}, created_at=moment))  # fmt: skip
    return report


def summarize(
    settings: Settings, sessions, report_id: UUID, now: Callable[[], datetime] = _now
) -> str | None:
    """candidate → in_progress → ready with a title and summary; back to candidate and again when
    signals arrive meanwhile (at most 10 loops). Returns the final status, None when not a candidate."""
    seen = _start_run(sessions, report_id, now())
    if seen is None:
        return None
    for loop in range(MAX_SUMMARY_LOOPS):
        with sessions() as session:
            report = session.get(SignalReport, report_id)
            title_now = report.title
            signals = [(s.description, dict(s.extra or {})) for s in report_signals(session, report_id, 30)]
        title, summary = _write_summary(settings, title_now, signals)
        with session_scope(sessions) as session:
            report = session.get(SignalReport, report_id, with_for_update=True)
            if report is None or report.status != ReportStatus.IN_PROGRESS:
                return str(report.status) if report else None
            moment = now()
            if report.signal_count > seen and loop < MAX_SUMMARY_LOOPS - 1:
                for target, args in (
                    ("candidate", {}),
                    ("in_progress", {"increment": SIGNALS_AT_RUN_INCREMENT}),
                ):
                    for name, value in transition(report, target, now=moment, **args).items():
                        setattr(report, name, value)
                seen = report.signal_count
                session.add(report)
                continue
            for name, value in transition(report, "ready", now=moment, title=title, summary=summary).items():
                setattr(report, name, value)
            session.add(report)
            return "ready"
    return None


def _start_run(sessions, report_id: UUID, moment: datetime) -> int | None:
    with session_scope(sessions) as session:
        report = session.get(SignalReport, report_id, with_for_update=True)
        if report is None or report.status != ReportStatus.CANDIDATE:
            return None
        changes = transition(report, "in_progress", now=moment, increment=SIGNALS_AT_RUN_INCREMENT)
        for name, value in changes.items():
            setattr(report, name, value)
        session.add(report)
        return report.signal_count


def _write_summary(settings: Settings, title: str | None, signals: list) -> tuple[str, str]:
    if settings.gemini_api_key is not None and settings.grouping_judge != "none" and signals:
        try:
            client = GeminiClient.from_settings(settings)
            reply = client.generate(summary_call(settings.signals_model, title, [d for d, _ in signals]))
            return parse_summary(reply.text)
        except SightlineError as exc:
            log.warning("report_summary_fallback", error=type(exc).__name__)
    return extractive_summary(title, signals)
