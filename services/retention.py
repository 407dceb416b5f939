"""Retention and per-person deletion (DESIGN §11): a recording goes with everything derived from it.

What goes, in one transaction: the observations of the sessions (their answers, evidence and
scanner results), the labels on them, the signals they emitted (their reports' weight and count
shrink; a report left with no signal is deleted), the ingest batches, and the recordings. Their
blobs, the analyses stored beside them, and the blobs of batches still waiting for their merge are
deleted after the commit: a crash in between leaves a blob no row references, which the orphan
check removes later (when the blob store can list its refs). What stays, and why: usage receipts
(credits, tokens, model, ids; no recording text) keep the month's quota honest; action runs and
deliveries are digests of many sessions already sent to their targets; scanners' and sources'
watermarks are positions, not content, and moving them back would sweep or import again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from uuid import UUID

import structlog
from sqlmodel import Session

from integrations.orphan_marks import read_orphan_marks, write_orphan_marks
from models import ReportStatus, SignalReport
from models.retention_queries import (
    delete_ingest_batches,
    delete_labels,
    delete_observations,
    delete_recording_rows,
    delete_signals,
    due_sessions,
    live_signal_count,
    referenced_refs,
    session_observations,
    sessions_of_person,
    signals_starting,
    team_ids,
)
from pipeline.errors import SightlineError
from pipeline.retention import one_selector, retention_cutoff, shrink, signal_prefix
from services.analysis_cache import analysed_blob, analysis_ref
from services.context import Deps

log = structlog.get_logger(__name__)
RETENTION_BATCH = 500
# A blob no row references is removed only when two checks at least this far apart both found it
# so: a blob written for a row not yet committed is referenced (or discarded) long before that.
ORPHAN_GRACE = timedelta(hours=1)


@dataclass
class Deleted:
    """What a deletion removed (reports: changed = lost signals, deleted = lost all of them)."""

    recordings: int = 0
    blobs: int = 0
    observations: int = 0
    labels: int = 0
    signals: int = 0
    reports_changed: int = 0
    reports_deleted: int = 0
    ingest_batches: int = 0
    orphan_blobs: int = 0

    def add(self, other: Deleted) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


def delete_recordings(
    deps: Deps, team_id: int, *, session_id: str | None = None, distinct_id: str | None = None
) -> Deleted:
    """Delete one session's recording, or every recording of one person (a privacy request), with
    what was derived from them. `InvalidField` unless exactly one selector is given; nothing
    matching is a deletion of nothing (all counts zero), not an error. A session id also removes
    the derived rows of a session whose recording is already gone."""
    selector, value = one_selector(session_id, distinct_id)
    with deps.transaction() as session:
        sessions = [value] if selector == "session" else sessions_of_person(session, team_id, value)
        deleted, refs = _delete_sessions(session, team_id, sessions, deps.now())
    deleted.blobs = remove_blobs(deps, refs)
    log.info("recordings_deleted", team_id=team_id, selector=selector, **asdict(deleted))
    return deleted


def apply_retention(deps: Deps, *, now: datetime, batch: int = RETENTION_BATCH) -> Deleted:
    """Delete at most `batch` recordings older than SIGHTLINE_RETENTION_DAYS (ended and last
    ingested before the cut-off), over every team, then run the orphan blob check when it is due.
    When nothing is due this costs one indexed read per team."""
    cutoff, total = retention_cutoff(now, deps.settings.retention_days), Deleted()
    with deps.read() as session:
        teams = team_ids(session)
    for team_id in teams:
        room = batch - total.recordings
        if room <= 0:
            break
        with deps.transaction() as session:
            sessions = due_sessions(session, team_id, cutoff, room)
            deleted, refs = _delete_sessions(session, team_id, sessions, now)
        deleted.blobs = remove_blobs(deps, refs)
        if deleted.recordings:
            log.info("retention_applied", team_id=team_id, **asdict(deleted))
        total.add(deleted)
    total.orphan_blobs = sweep_orphan_blobs(deps, now)
    return total


def _delete_sessions(
    session: Session, team_id: int, sessions: list[str], now: datetime
) -> tuple[Deleted, list[str]]:
    """Delete the rows of these sessions, children first; returns the counts and the blob refs."""
    if not sessions:
        return Deleted(), []
    observations = session_observations(session, team_id, sessions)
    observation_ids = [key for key, _ in observations]
    deleted = Deleted(labels=delete_labels(session, observation_ids))
    prefixes = [signal_prefix(key) for key, succeeded in observations if succeeded]
    _delete_signals(session, team_id, prefixes, now, deleted)
    deleted.observations = delete_observations(session, observation_ids)
    batch_refs = delete_ingest_batches(session, team_id, sessions)
    refs = delete_recording_rows(session, team_id, sessions)
    deleted.ingest_batches, deleted.recordings = len(batch_refs), len(refs)
    return deleted, refs + [ref for ref in batch_refs if ref]


def _delete_signals(
    session: Session, team_id: int, prefixes: list[str], now: datetime, deleted: Deleted
) -> None:
    """Delete the observations' signals and shrink their reports.

    The reports are locked (in id order) before their signals are deleted, the order grouping
    takes them in (a report, then the signal it places); a signal a grouping worker placed
    meanwhile comes back from the delete with its report, which is then locked too.
    """
    found = signals_starting(session, team_id, prefixes)
    for report_id in sorted({row.report_id for row in found if row.report_id is not None}):
        session.get(SignalReport, report_id, with_for_update=True)
    counted: dict[UUID, list[float]] = defaultdict(list)  # a deleted signal was never counted
    for report_id, weight, was_deleted in delete_signals(session, [row.id for row in found]):
        deleted.signals += 1
        if report_id is not None:
            counted[report_id] += [] if was_deleted else [weight]
    _shrink_reports(session, counted, now, deleted)


def _shrink_reports(
    session: Session, counted: dict[UUID, list[float]], now: datetime, deleted: Deleted
) -> None:
    """Take the deleted signals' weights and counts off their reports (`pipeline.retention.shrink`)."""
    for report_id, weights in sorted(counted.items()):
        report = session.get(SignalReport, report_id, with_for_update=True)
        if report is None:
            continue
        before, left = report.status, live_signal_count(session, report_id)
        for name, value in shrink(report, sum(weights), len(weights), left, now).items():
            setattr(report, name, value)
        session.add(report)
        deleted.reports_changed += 1
        deleted.reports_deleted += before != ReportStatus.DELETED and report.status == ReportStatus.DELETED


def remove_blobs(deps: Deps, refs: Iterable[str]) -> int:
    """Delete these blobs (a missing one is fine) and the analyses stored beside them
    (`services.analysis_cache`); the count of blobs deleted. A failure is logged and left to the
    orphan check."""
    count = 0
    for ref in dict.fromkeys(ref for ref in refs if ref):
        count += _remove(deps, ref)
        if analysed_blob(ref) is None:  # not counted: an analysis is a cache of its blob
            _remove(deps, analysis_ref(ref))
    return count


def _remove(deps: Deps, ref: str) -> bool:
    try:
        deps.blobs.delete(ref)
    except (OSError, SightlineError) as exc:
        log.warning("blob_delete_failed", blob_ref=ref, error=type(exc).__name__)
        return False
    return True


def sweep_orphan_blobs(deps: Deps, now: datetime) -> int:
    """Remove blobs no row references, once two checks at least ORPHAN_GRACE apart both found them
    so (`integrations.orphan_marks` keeps the findings in between); a check runs at most once per
    ORPHAN_GRACE."""
    client, namespace = deps.redis(), deps.settings.redis_namespace
    checked, seen = read_orphan_marks(client, namespace)
    stamp, grace = now.timestamp(), ORPHAN_GRACE.total_seconds()
    if checked is not None and stamp - checked < grace:
        return 0
    orphans = _orphans(deps)
    ripe = [ref for ref in orphans if stamp - seen.get(ref, stamp) >= grace]
    removed = remove_blobs(deps, ripe)
    write_orphan_marks(
        client, namespace, stamp, {ref: seen.get(ref, stamp) for ref in orphans.difference(ripe)}
    )
    if removed:
        log.info("orphan_blobs_removed", count=removed)
    return removed


def _orphans(deps: Deps) -> set[str]:
    """Blob refs of each team that no row of it holds (`referenced_refs`), and analyses of blobs no
    row holds. Listed before the rows are read: a blob committed in between is seen referenced."""
    with deps.read() as session:
        teams = team_ids(session)
    orphans: set[str] = set()
    for team_id in teams:
        refs = set(deps.blobs.refs(prefix=f"{team_id}/"))
        with deps.read() as session:
            known = referenced_refs(session, team_id)
        if refs and known and known.isdisjoint(refs):
            # The listing does not speak the rows' language (another prefix, another bucket):
            # every blob would look orphaned, so none is touched.
            log.warning("orphan_check_skipped", team_id=team_id, reason="no listed blob is referenced")
            return set()
        # An analysis is referenced through its blob: it is an orphan once the blob is gone.
        orphans.update(ref for ref in refs - known if analysed_blob(ref) not in known)
    return orphans
