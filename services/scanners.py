"""Scanners: create, change, delete, apply as code, backfill, estimate, and read them back.

A definition is checked by `pipeline.scanners`; the version goes up when what the scanner asks
changes. A new or re-enabled scanner starts its sweep watermark at now − settle, so it never walks
the past unless asked to (`backfill`). Each use case writes in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from integrations.secrets import secret_box
from models import Scanner, as_utc
from models.action_queries import has_runs, scanner_actions
from models.observation_queries import (
    ScannerFilters,
    filtered_scanners,
    find_scanner,
    has_observations,
    scanner_named,
    team_scanners,
)
from pipeline import as_code
from pipeline.errors import InvalidField, NotFoundError
from pipeline.query import validate_query
from pipeline.scanners import (
    EDITABLE,
    bumps_version,
    changed_fields,
    validate_sampling_rate,
    validate_scanner,
)
from pipeline.schedule import parse_since
from services.actions import apply_actions, default_digest
from services.budget import waiting_for
from services.context import Deps
from services.estimates import Estimate, estimate_details, refresh_estimate
from services.prompts import apply_prompts, resolve
from services.scouts import apply_scouts
from settings import Settings

# Changing these changes how many sessions the scanner takes, so its monthly estimate is redone.
_ESTIMATED_FROM = frozenset({"query", "sampling_rate", "enabled"})


@dataclass(frozen=True)
class ScannerView:
    """A scanner as plain values: its editable definition, id, version and monthly estimate."""

    id: UUID
    team_id: int
    version: int
    definition: dict[str, Any]
    estimated_monthly_observations: int
    created_by: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_swept_at: datetime | None = None
    warnings: tuple[str, ...] = ()  # what the caller should tell the person (a missing key)

    @property
    def name(self) -> str:
        return self.definition["name"]

    def document(self) -> dict[str, Any]:
        """The definition as an `apply` file (`scanners: [...]`): what `scanners show` prints."""
        return as_code.document(scanners=[self.definition])


@dataclass(frozen=True)
class Updated:
    changed: list[str]
    version: int
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Applied:
    name: str
    action: str  # created | updated | unchanged
    changed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    kind: str = ""  # "prompt" for a library prompt; scanners and actions are named as they are


@dataclass(frozen=True)
class Backfilled:
    names: list[str]
    since: datetime


def definition(scanner: Scanner) -> dict[str, Any]:
    """A scanner's editable fields as plain values (what `validate_scanner` returns)."""
    values = {field: getattr(scanner, field) for field in EDITABLE}
    values["scanner_type"], values["provider"] = str(scanner.scanner_type), str(scanner.provider)
    return values


def view(scanner: Scanner) -> ScannerView:
    return ScannerView(
        scanner.id,
        scanner.team_id,
        scanner.scanner_version,
        definition(scanner),
        scanner.estimated_monthly_observations or 0,
        scanner.created_by,
        as_utc(scanner.created_at),
        as_utc(scanner.updated_at),
        as_utc(scanner.last_swept_at),
    )


def load_scanner(session: Session, team_id: int, ref: str) -> Scanner:
    """A team's scanner by name or id; `NotFoundError` when it has none."""
    scanner = find_scanner(session, team_id, ref)
    if scanner is None:
        raise NotFoundError(f"no scanner {ref!r} in team {team_id}; see `sightline scanners list`")
    return scanner


def scanners(deps: Deps, team_id: int) -> list[ScannerView]:
    """The team's scanners by name."""
    with deps.read() as session:
        return [view(scanner) for scanner in team_scanners(session, team_id)]


def scanner_page(
    deps: Deps, team_id: int, filters: ScannerFilters, order_by: str, limit: int, offset: int
) -> tuple[int, list[ScannerView]]:
    """One page of the team's scanners matching `filters`, in `order_by` (`-name`, `created_at`, …)."""
    with deps.read() as session:
        count, rows = filtered_scanners(session, team_id, filters, order_by, limit, offset)
        return count, [view(row) for row in rows]


def scanner(deps: Deps, team_id: int, ref: str) -> ScannerView:
    """One scanner by name or id; `NotFoundError` when the team has none."""
    with deps.read() as session:
        return view(load_scanner(session, team_id, ref))


def create_scanner(
    deps: Deps, team_id: int, data: dict[str, Any], *, user_id: int | None = None, now: datetime | None = None
) -> ScannerView:
    """A new scanner, with its monthly estimate and a daily digest action; a warning when it needs a
    setting to observe that is not set (a Gemini scanner without GEMINI_API_KEY: it waits for it).

    Raises `InvalidField` for a bad definition or a name the team already uses.
    """
    with deps.transaction() as session:
        created = add_scanner(session, team_id, data, deps.settings, now or deps.now(), user_id)
    return replace(view(created), warnings=_waiting(created.name, str(created.provider), deps.settings))


def update_scanner(
    deps: Deps, team_id: int, ref: str, changes: dict[str, Any], *, now: datetime | None = None
) -> Updated:
    """Apply `changes` (a partial definition), with a warning when the scanner now waits for a setting
    (see `create_scanner`). Raises `NotFoundError`, or `InvalidField` for a bad value."""
    with deps.transaction() as session:
        found = load_scanner(session, team_id, ref)
        changed = change_scanner(session, found, changes, deps.settings, now or deps.now())
        warnings = _waiting(found.name, str(found.provider), deps.settings) if changed else ()
        return Updated(changed, found.scanner_version, warnings)


def delete_scanner(deps: Deps, team_id: int, ref: str) -> str:
    """Delete a scanner that has no observations; its name.

    Its actions go with it when none of them ever ran. Raises `NotFoundError`, or `InvalidField`
    when it has observations or an action that ran (disable it instead).
    """
    with deps.transaction() as session:
        found = load_scanner(session, team_id, ref)
        if has_observations(session, found.id):
            raise InvalidField("scanner", "it has observations; disable it instead (--set enabled=false)")
        actions = scanner_actions(session, found.id)
        ran = [action.name for action in actions if has_runs(session, action.id)]
        if ran:
            raise InvalidField("scanner", f"its action {ran[0]!r} has runs; disable the scanner instead")
        for action in actions:  # its default digest, which never ran
            session.delete(action)
        session.flush()
        session.delete(found)
        return found.name


def estimate_scanner(deps: Deps, team_id: int, query: Any, sampling_rate: Any) -> Estimate:
    """Observations a month a proposed scanner would make, from the team's last 30 days of data,
    with the matched sessions and days of data behind the figure.

    Raises `InvalidField` for a bad query or sampling rate.
    """
    normalised, rate = validate_query(query), validate_sampling_rate(sampling_rate)
    with deps.read() as session:
        return estimate_details(session, team_id, normalised, rate)


def backfill(
    deps: Deps, team_id: int, refs: list[str], *, since: str, every: bool = False, now: datetime | None = None
) -> Backfilled:
    """Move scanners' watermark back to `since` (a date or `7d`): the next sweep looks again at every
    recording that settled (was last ingested) since then.

    Sessions a scanner already observed are skipped by the unique (scanner, session) key. Raises
    `InvalidField` for a bad `since` or when no scanner is named, `NotFoundError` for an unknown one.
    """
    start = parse_since(since, now=now or deps.now())
    if not refs and not every:
        raise InvalidField("scanners", "name at least one scanner, or pass --all")
    with deps.transaction() as session:
        if every:
            found = list(team_scanners(session, team_id))
        else:
            found = [load_scanner(session, team_id, ref) for ref in refs]
        for each in found:
            _rewind(each, start)
            session.add(each)
        return Backfilled([each.name for each in found], start)


def apply_scanners(
    deps: Deps,
    team_id: int,
    document: Any,
    *,
    source: str,
    dry_run: bool = False,
    now: datetime | None = None,
) -> list[Applied]:
    """Prompts, scanners, actions and custom scouts as code: create or update each by name; running
    it twice changes nothing.

    `document` is a list of scanners, or `{prompts: [...], scanners: [...], actions: [...]}`
    (`pipeline.as_code`); `source` names it in errors. Prompts are written first, so a scanner or
    action of the same file may name one (`prompt_ref`). Every scanner is validated before any is
    written. Raises `InvalidField`, also for a file that names nothing or is not of that shape. A
    dry run says what would change and writes nothing.
    """
    prompt_entries, entries, action_entries = as_code.entries(document, source)
    scout_entries = as_code.scout_entries(document, source)
    _check_all(entries, deps.settings)
    now = now or deps.now()
    with deps.transaction() as session:
        prompts = [
            Applied(*each, kind="prompt") for each in apply_prompts(session, team_id, prompt_entries, now)
        ]
        session.flush()
        applied = prompts + [
            _at(index, _apply_one, session, team_id, entry, deps.settings, now, dry_run)
            for index, entry in enumerate(entries)
        ]
        session.flush()
        box = secret_box(deps.settings)
        allow_private = deps.settings.webhook_allow_private
        actions = apply_actions(
            session, team_id, action_entries, now=now, box=box, dry_run=dry_run, allow_private=allow_private
        )
        scouts = [Applied(*each, kind="scout") for each in apply_scouts(session, team_id, scout_entries, now)]
        if dry_run:
            session.rollback()
    return applied + [Applied(name, action, changed) for name, action, changed in actions] + scouts


def add_scanner(
    session: Session,
    team_id: int,
    data: dict[str, Any],
    settings: Settings,
    now: datetime,
    user_id: int | None = None,
) -> Scanner:
    """Insert a scanner with its estimate and default digest (the caller commits); see `create_scanner`."""
    values = _validated(data, settings)
    _check_prompt(session, team_id, values["scanner_config"])
    if scanner_named(session, team_id, values["name"]):
        raise InvalidField("name", f"{values['name']!r} is taken in this team; choose another or update it")
    created = Scanner(team_id=team_id, created_by=user_id, **values)
    _start_watermark(created, settings, now)
    try:
        with session.begin_nested():
            session.add(created)
    except IntegrityError as exc:
        raise InvalidField("name", f"{values['name']!r} was just taken; choose another") from exc
    refresh_estimate(session, created, now)
    default_digest(session, created, now)
    return created


def change_scanner(
    session: Session, found: Scanner, changes: dict[str, Any], settings: Settings, now: datetime
) -> list[str]:
    """Apply a partial definition (the caller commits); the changed fields. Bumps the version when due."""
    current = definition(found)
    proposed = _validated({**current, **changes}, settings)
    changed = changed_fields(current, proposed)
    if not changed:
        return []
    _check_prompt(session, found.team_id, proposed["scanner_config"])
    for field in changed:
        setattr(found, field, proposed[field])
    if bumps_version(changed):
        found.scanner_version += 1
    if "enabled" in changed and proposed["enabled"]:
        _start_watermark(found, settings, now)
    found.updated_at = now
    session.add(found)
    if _ESTIMATED_FROM & set(changed):
        refresh_estimate(session, found, now)
    return changed


def _check_prompt(session: Session, team_id: int, config: dict[str, Any]) -> None:
    """`InvalidField` when the config names a library prompt (or a version) the team does not have."""
    if "prompt_ref" in config:
        resolve(session, team_id, config["prompt_ref"], "scanner_config.prompt_ref")


def _at(index: int, apply: Any, *args: Any) -> Applied:
    """`apply(*args)` for the file's scanner `index`; its `InvalidField` names it (`scanners[2].name`)."""
    try:
        return apply(*args)
    except InvalidField as exc:
        raise InvalidField(f"scanners[{index}].{exc.field}", str(exc).split(": ", 1)[-1]) from exc


def _validated(data: dict[str, Any], settings: Settings) -> dict[str, Any]:
    return validate_scanner(data, default_model=settings.default_model, prices=settings.model_prices)


def _start_watermark(found: Scanner, settings: Settings, now: datetime) -> None:
    """New and re-enabled scanners look at sessions from now − settle on: no backfill of the past."""
    _rewind(found, now - timedelta(seconds=settings.settle_s))


def _rewind(found: Scanner, since: datetime) -> None:
    """Move the watermark to `since`; the next sweep is due at once (no slot taken yet)."""
    found.last_swept_at = since
    found.last_seen_session_id = ""
    found.sweep_slot = None


def _check_all(entries: list[dict[str, Any]], settings: Settings) -> None:
    """Every entry valid and every name once, before anything is written."""
    names = [entry.get("name") for entry in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1 and name})
    if duplicates:
        raise InvalidField("scanners", f"names repeat in the file: {', '.join(map(str, duplicates))}")
    for index, entry in enumerate(entries):
        try:
            _validated(entry, settings)
        except InvalidField as exc:
            raise InvalidField(f"scanners[{index}].{exc.field}", str(exc).split(": ", 1)[-1]) from exc


def _apply_one(
    session: Session, team_id: int, entry: dict, settings: Settings, now: datetime, dry_run: bool
) -> Applied:
    existing = scanner_named(session, team_id, entry["name"])
    full = _validated(entry, settings)
    _check_prompt(session, team_id, full["scanner_config"])
    warnings = _waiting(full["name"], full["provider"], settings)
    if existing is None:
        if not dry_run:
            add_scanner(session, team_id, entry, settings, now)
        return Applied(entry["name"], "created", warnings=warnings)
    changed = changed_fields(definition(existing), full)
    if changed and not dry_run:
        change_scanner(session, existing, full, settings, now)
    return Applied(entry["name"], "updated" if changed else "unchanged", tuple(changed), warnings)


def _waiting(name: str, provider: str, settings: Settings) -> tuple[str, ...]:
    """The warning for a scanner kept without a setting it needs to observe; none when all is set."""
    missing = waiting_for(provider, settings)
    if missing is None:
        return ()
    return (f"scanner {name!r} uses Gemini but {missing} is not set: it observes nothing until it is set",)
