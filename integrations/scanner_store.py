"""Creating, changing and applying scanners (by hand or from YAML) with validation and versioning.

None of these commit: the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from integrations.action_store import default_digest
from integrations.estimates import refresh_estimate
from models import Scanner
from pipeline.errors import InvalidField
from pipeline.scanners import bumps_version, changed_fields, validate_scanner
from settings import Settings

EDITABLE = ("name", "description", "scanner_type", "scanner_config", "query", "sampling_rate", "provider",
            "model", "enabled", "emits_signals", "credit_limit")  # fmt: skip


def definition(scanner: Scanner) -> dict[str, Any]:
    """A scanner's editable fields as plain values (what `validate_scanner` returns)."""
    values = {field: getattr(scanner, field) for field in EDITABLE}
    values["scanner_type"], values["provider"] = str(scanner.scanner_type), str(scanner.provider)
    return values


def _validated(data: dict[str, Any], settings: Settings) -> dict[str, Any]:
    return validate_scanner(data, default_model=settings.default_model, prices=settings.model_prices)


def create_scanner(session: Session, team_id: int, data: dict[str, Any], settings: Settings,
                   user_id: int | None = None) -> Scanner:  # fmt: skip
    """A new scanner; `InvalidField` for a bad definition or a name the team already uses."""
    values = _validated(data, settings)
    if session.exec(
        select(Scanner).where(Scanner.team_id == team_id, Scanner.name == values["name"])
    ).first():
        raise InvalidField("name", f"{values['name']!r} is taken in this team; choose another or update it")
    now = datetime.now(UTC)
    scanner = Scanner(team_id=team_id, created_by=user_id, **values)
    _start_watermark(scanner, settings, now)
    try:
        with session.begin_nested():
            session.add(scanner)
    except IntegrityError as exc:
        raise InvalidField("name", f"{values['name']!r} was just taken; choose another") from exc
    refresh_estimate(session, scanner, now)
    default_digest(session, scanner, now)
    return scanner


def _start_watermark(scanner: Scanner, settings: Settings, now: datetime) -> None:
    """New and re-enabled scanners look at sessions from now − settle on: no backfill of the past."""
    scanner.last_swept_at = now - timedelta(seconds=settings.settle_s)
    scanner.last_seen_session_id = ""
    scanner.sweep_slot = None


def update_scanner(
    session: Session, scanner: Scanner, changes: dict[str, Any], settings: Settings
) -> list[str]:
    """Apply `changes` (a partial definition); returns the changed fields. Bumps the version when due."""
    current = definition(scanner)
    proposed = _validated({**current, **changes}, settings)
    changed = changed_fields(current, proposed)
    if not changed:
        return []
    bump = bumps_version(changed)
    now = datetime.now(UTC)
    reenabled = "enabled" in changed and proposed["enabled"]
    for field in changed:
        setattr(scanner, field, proposed[field])
    if bump:
        scanner.scanner_version += 1
    if reenabled:
        _start_watermark(scanner, settings, now)
    scanner.updated_at = now
    session.add(scanner)
    if {"query", "sampling_rate", "enabled"} & set(changed):
        refresh_estimate(session, scanner, now)
    return changed


def rewind(scanner: Scanner, since: datetime) -> None:
    """Backfill: move the watermark back to `since`, so the next sweep (due at once) looks again.

    Sessions already observed are skipped by the unique (scanner, session) key.
    """
    scanner.last_swept_at = since
    scanner.last_seen_session_id = ""
    scanner.sweep_slot = None


@dataclass(frozen=True)
class Applied:
    name: str
    action: str  # created | updated | unchanged
    changed: tuple[str, ...] = ()


def apply_scanners(session: Session, team_id: int, entries: list[dict[str, Any]], settings: Settings,
                   *, dry_run: bool = False) -> list[Applied]:  # fmt: skip
    """Scanners as code: create or update each entry by name. All entries are validated first."""
    names = [entry.get("name") for entry in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1 and name})
    if duplicates:
        raise InvalidField("scanners", f"names repeat in the file: {', '.join(map(str, duplicates))}")
    for index, entry in enumerate(entries):
        try:
            _validated(entry, settings)
        except InvalidField as exc:
            raise InvalidField(f"scanners[{index}].{exc.field}", str(exc).split(": ", 1)[-1]) from exc
    return [_apply_one(session, team_id, entry, settings, dry_run) for entry in entries]


def _apply_one(session: Session, team_id: int, entry: dict, settings: Settings, dry_run: bool) -> Applied:
    existing = session.exec(
        select(Scanner).where(Scanner.team_id == team_id, Scanner.name == entry["name"])
    ).first()
    if existing is None:
        if not dry_run:
            create_scanner(session, team_id, entry, settings)
        return Applied(entry["name"], "created")
    full = _validated(entry, settings)
    changed = changed_fields(definition(existing), full)
    if changed and not dry_run:
        update_scanner(session, existing, full, settings)
    return Applied(entry["name"], "updated" if changed else "unchanged", tuple(changed))
