"""The team's project profile: a deterministic inventory a scout orients on (scanners and what they
ask, integrations, recording sources, signal coverage by source, the inbox by status, recordings of
the last week), cached for a day; `force_refresh` rebuilds it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from models import (
    Integration,
    ProjectProfile,
    Recording,
    RecordingSource,
    Scanner,
    Signal,
    SignalReport,
    as_utc,
)
from models.scout_queries import count_by, latest_profile
from services.context import Deps

SOURCE_VERSION = "1"
LIFETIME = timedelta(hours=24)
RECENT = timedelta(days=7)


def current_profile(deps: Deps, team_id: int, *, force_refresh: bool = False) -> ProjectProfile:
    """The newest unexpired profile, or a new one built now (always, with `force_refresh`)."""
    now = deps.now()
    if not force_refresh:
        with deps.read() as session:
            cached = latest_profile(session, team_id, now)
        if cached is not None:
            return cached
    with deps.transaction() as session:
        built = ProjectProfile(
            team_id=team_id,
            source_version=SOURCE_VERSION,
            payload=_inventory(session, team_id, now),
            computed_at=now,
            expires_at=now + LIFETIME,
        )
        session.add(built)
        session.flush()
        session.refresh(built)
        return built


def _inventory(session: Session, team_id: int, now: datetime) -> dict[str, Any]:
    scanners = session.exec(
        select(Scanner).where(Scanner.team_id == team_id).order_by(col(Scanner.name))
    ).all()
    integrations = session.exec(select(Integration).where(Integration.team_id == team_id)).all()
    sources = session.exec(select(RecordingSource).where(RecordingSource.team_id == team_id)).all()
    by_source = count_by(
        session, Signal.source_product, Signal.team_id == team_id, col(Signal.deleted).is_(False)
    )
    by_status = count_by(session, SignalReport.status, SignalReport.team_id == team_id)
    recent = count_by(
        session,
        Recording.device_type,
        Recording.team_id == team_id,
        col(Recording.start_time) >= now - RECENT,
    )
    return {
        "inventory": {
            "scanners": [
                {
                    "name": s.name,
                    "scanner_type": str(s.scanner_type),
                    "enabled": s.enabled,
                    "asks": str(
                        (s.scanner_config or {}).get("prompt") or (s.scanner_config or {}).get("rule") or ""
                    ),
                }
                for s in scanners
            ],
            "integrations": [{"kind": str(i.kind), "name": i.name} for i in integrations],
            "recording_sources": [{"kind": str(r.kind), "enabled": r.enabled} for r in sources],
            "signal_coverage": [{"source_product": name, "count": count} for name, count in by_source],
            "existing_inbox_reports": {
                "total": sum(count for _, count in by_status),
                "by_status": [{"status": name, "count": count} for name, count in by_status],
            },
            "recent_recordings": {
                "window_days": RECENT.days,
                "by_device": [{"device_type": name, "count": count} for name, count in recent],
            },
        }
    }


def as_shape(profile: ProjectProfile) -> dict[str, Any]:
    return {
        "profile_id": str(profile.id),
        "computed_at": as_utc(profile.computed_at).isoformat(),
        "expires_at": as_utc(profile.expires_at).isoformat(),
        "source_version": profile.source_version,
        "payload": profile.payload,
    }
