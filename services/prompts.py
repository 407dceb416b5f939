"""The prompt library: create, edit (each change a new version), soft-delete, read and resolve prompts.

A change to a prompt's name or text writes a new version (`llm_prompt_versions`) and moves the
prompt's `version` on; `deleted` hides it from lists and from new references but keeps every
version readable by id, so what an old observation froze can still be looked up. A prompt that a
scanner or an action names (`prompt_ref`) cannot be renamed or deleted until they stop naming it:
their next observations and runs would have nothing to resolve.

`resolve` and `frozen_snapshot` work inside a caller's transaction: the sweeps and on-demand
requests freeze the resolved text and version into each observation's scanner snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models import LlmPrompt, LlmPromptVersion, Scanner, as_utc
from models.prompt_queries import (
    live_prompt_named,
    prompt_page,
    prompt_version,
    prompt_versions,
    scanners_and_actions,
    team_prompt,
)
from pipeline.errors import InvalidField, NotFoundError
from pipeline.prompt_library import (
    LATEST,
    PROMPT_FIELDS,
    Resolved,
    check_entries,
    validate_name,
    validate_text,
)
from pipeline.scanners import snapshot
from services.context import Deps

EDITABLE = (*PROMPT_FIELDS, "deleted")


@dataclass(frozen=True)
class PromptView:
    """One version of a prompt (its latest unless one was asked for), as plain values."""

    id: UUID
    name: str
    prompt: str
    version: int
    latest_version: int
    deleted: bool
    created_by: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Edited:
    prompt: PromptView
    changed: list[str]  # the fields that changed: name, prompt, deleted


class Applied(NamedTuple):
    name: str
    action: str  # created | updated | unchanged
    changed: tuple[str, ...] = ()


def view(row: LlmPrompt, version: LlmPromptVersion | None = None) -> PromptView:
    shown = version or row
    return PromptView(
        row.id,
        shown.name,
        shown.prompt,
        shown.version,
        row.version,
        row.deleted,
        version.created_by if version else row.created_by,
        as_utc(row.created_at),
        as_utc(version.created_at if version else row.updated_at),
    )


def prompts(
    deps: Deps, team_id: int, *, deleted: bool = False, limit: int | None = None, offset: int = 0
) -> tuple[int, list[PromptView]]:
    """(how many, one page of) the team's prompts by name: the live ones, or only the deleted ones."""
    with deps.read() as session:
        count, rows = prompt_page(session, team_id, deleted=deleted, limit=limit, offset=offset)
        return count, [view(row) for row in rows]


def prompt_by_id(deps: Deps, team_id: int, prompt_id: UUID, *, version: int | None = None) -> PromptView:
    """A prompt by id, deleted or not (an old observation may name it), at `version` (default its
    latest); `NotFoundError` for another team's or an unknown one, or a version it never had."""
    with deps.read() as session:
        return _at(session, _by_id(session, team_id, prompt_id), version)


def prompt_named(deps: Deps, team_id: int, name: str, *, version: int | None = None) -> PromptView:
    """The live prompt called `name`, at `version` (default its latest); `NotFoundError` otherwise."""
    with deps.read() as session:
        return _at(session, _live(session, team_id, name), version)


def prompt(deps: Deps, team_id: int, ref: str, *, version: int | None = None) -> PromptView:
    """A prompt by live name, else by id (a deleted one too), as the CLI names them."""
    with deps.read() as session:
        return _at(session, find_prompt(session, team_id, ref), version)


def history(deps: Deps, team_id: int, ref: str) -> list[PromptView]:
    """Every version of a prompt (by name or id), newest first; `NotFoundError` for an unknown one."""
    with deps.read() as session:
        found = find_prompt(session, team_id, ref)
        return [view(found, each) for each in prompt_versions(session, found.id)]


def create_prompt(
    deps: Deps, team_id: int, data: dict[str, Any], *, user_id: int | None = None, now: datetime | None = None
) -> PromptView:
    """A new prompt at version 1 (`deleted: true` creates it deleted). Raises `InvalidField` for a bad
    name or text, or a name a live prompt of the team has."""
    unknown = sorted(set(data) - set(EDITABLE))
    if unknown:
        raise InvalidField(unknown[0], f"is not a prompt field; a prompt has {', '.join(EDITABLE)}")
    with deps.transaction() as session:
        return view(add_prompt(session, team_id, data, now or deps.now(), user_id))


def update_prompt(
    deps: Deps,
    team_id: int,
    ref: str | UUID,
    changes: dict[str, Any],
    *,
    user_id: int | None = None,
    now: datetime | None = None,
) -> Edited:
    """Change a prompt (by name or id): a new name or text is a new version, `deleted` hides or
    restores it. Raises `NotFoundError`, or `InvalidField` for a bad value, a name taken, a deleted
    prompt edited without restoring it, or a rename or delete of a prompt a scanner or action names."""
    with deps.transaction() as session:
        found = _by_id(session, team_id, ref) if isinstance(ref, UUID) else find_prompt(session, team_id, ref)
        changed = change_prompt(session, found, changes, now or deps.now(), user_id)
        return Edited(view(found), changed)


def find_prompt(session: Session, team_id: int, ref: str) -> LlmPrompt:
    """A team's live prompt by name, else any of its prompts by id; `NotFoundError` otherwise."""
    found = live_prompt_named(session, team_id, ref)
    if found is None:
        try:
            found = team_prompt(session, team_id, UUID(ref))
        except ValueError:
            found = None
    if found is None:
        raise NotFoundError(f"no prompt {ref!r} in team {team_id}; see `sightline prompts list`")
    return found


def add_prompt(
    session: Session, team_id: int, data: dict[str, Any], now: datetime, user_id: int | None = None
) -> LlmPrompt:
    """Insert a prompt and its version 1 (the caller commits); see `create_prompt`."""
    name, text = validate_name(data.get("name")), validate_text(data.get("prompt"))
    deleted = _flag(data.get("deleted", False))
    if not deleted:
        _name_free(session, team_id, name)
    row = LlmPrompt(
        team_id=team_id,
        name=name,
        prompt=text,
        deleted=deleted,
        created_by=user_id,
        created_at=now,
        updated_at=now,
    )
    _save(session, row, user_id)
    return row


def change_prompt(
    session: Session, found: LlmPrompt, changes: dict[str, Any], now: datetime, user_id: int | None = None
) -> list[str]:
    """Apply a partial change (the caller commits); the fields that changed. See `update_prompt`."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidField(unknown[0], f"cannot be changed; editable: {', '.join(EDITABLE)}")
    name = validate_name(changes.get("name", found.name))
    text = validate_text(changes.get("prompt", found.prompt))
    deleted = _flag(changes.get("deleted", found.deleted))
    proposed: dict[str, Any] = {"name": name, "prompt": text, "deleted": deleted}
    changed = [field for field in EDITABLE if proposed[field] != getattr(found, field)]
    if not changed:
        return []
    _check_change(session, found, changed, name, deleted)
    found.name, found.prompt, found.deleted, found.updated_at = name, text, deleted, now
    if set(changed) & set(PROMPT_FIELDS):
        found.version += 1
    _save(session, found, user_id)
    return changed


def _check_change(session: Session, found: LlmPrompt, changed: list[str], name: str, deleted: bool) -> None:
    """Refuse editing a deleted prompt, renaming or deleting one that is named, and a taken name."""
    if deleted and found.deleted:
        raise InvalidField("deleted", "the prompt is deleted; restore it (deleted: false) to edit it")
    leaving = "name" in changed or deleted
    if leaving and not found.deleted and found.name in referenced_names(session, found.team_id):
        users = ", ".join(referrers(session, found.team_id, found.name))
        field = "deleted" if deleted else "name"
        raise InvalidField(field, f"{found.name!r} is named by {users}; point them at another prompt first")
    if not deleted and ("name" in changed or "deleted" in changed):
        _name_free(session, found.team_id, name, found.id)


def apply_prompts(
    session: Session, team_id: int, entries: list[dict[str, Any]], now: datetime
) -> list[Applied]:
    """Prompts as code (`prompts:` of an `apply` file): each created, or given a new version when its
    text differs, by name. Raises `InvalidField` naming the entry (`prompts[1].prompt`)."""
    results = []
    for entry in check_entries(entries):
        existing = live_prompt_named(session, team_id, entry["name"])
        if existing is None:
            add_prompt(session, team_id, entry, now)
            results.append(Applied(entry["name"], "created", ("version 1",)))
        elif change_prompt(session, existing, entry, now):
            results.append(Applied(entry["name"], "updated", ("prompt", f"version {existing.version}")))
        else:
            results.append(Applied(entry["name"], "unchanged"))
    return results


def resolve(session: Session, team_id: int, ref: dict[str, Any], field: str) -> Resolved:
    """The text and version a `prompt_ref` (`{name, version}`) names now. Raises `InvalidField`
    naming `field` when the team has no live prompt of that name or the version does not exist."""
    found = live_prompt_named(session, team_id, ref["name"])
    if found is None:
        raise InvalidField(
            field, f"no prompt {ref['name']!r} in the library; create it (`sightline prompts create`) first"
        )
    version = ref.get("version", LATEST)
    if version == LATEST:
        return Resolved(str(found.id), found.name, found.version, found.prompt)
    row = prompt_version(session, found.id, int(version))
    if row is None:
        raise InvalidField(f"{field}.version", f"{found.name!r} has versions 1 to {found.version}")
    return Resolved(str(found.id), found.name, row.version, row.prompt)


def frozen_snapshot(session: Session, scanner: Scanner) -> dict[str, Any]:
    """The scanner's snapshot for a new observation, its `prompt_ref` resolved (see `resolve`)."""
    ref = (scanner.scanner_config or {}).get("prompt_ref")
    resolved = resolve(session, scanner.team_id, ref, "scanner_config.prompt_ref") if ref else None
    return snapshot(scanner, resolved)


def referenced_names(session: Session, team_id: int) -> set[str]:
    """The prompt names the team's scanners and actions refer to."""
    return {name for name, _ in _references(session, team_id)}


def referrers(session: Session, team_id: int, name: str) -> list[str]:
    """Who refers to the prompt `name`: `scanner 'Checkout'`, `action 'Morning digest'`."""
    return [who for referred, who in _references(session, team_id) if referred == name]


def _references(session: Session, team_id: int) -> list[tuple[str, str]]:
    scanners, actions = scanners_and_actions(session, team_id)
    found = [(_ref_name(row.scanner_config), f"scanner {row.name!r}") for row in scanners]
    found += [(_ref_name(row.synthesis_config), f"action {row.name!r}") for row in actions]
    return [(name, who) for name, who in found if name]


def _ref_name(config: dict[str, Any] | None) -> str | None:
    ref = (config or {}).get("prompt_ref")
    return ref.get("name") if isinstance(ref, dict) else None


def _by_id(session: Session, team_id: int, prompt_id: UUID) -> LlmPrompt:
    found = team_prompt(session, team_id, prompt_id)
    if found is None:
        raise NotFoundError(f"no prompt {prompt_id} in team {team_id}")
    return found


def _live(session: Session, team_id: int, name: str) -> LlmPrompt:
    found = live_prompt_named(session, team_id, name)
    if found is None:
        raise NotFoundError(f"no prompt named {name!r} in team {team_id}; see `sightline prompts list`")
    return found


def _at(session: Session, found: LlmPrompt, version: int | None) -> PromptView:
    if version is None or version == found.version:
        return view(found)
    row = prompt_version(session, found.id, version)
    if row is None:
        raise NotFoundError(f"prompt {found.name!r} has versions 1 to {found.version}, not {version}")
    return view(found, row)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidField("deleted", f"{value!r} is not true or false")
    return value


def _name_free(session: Session, team_id: int, name: str, own: UUID | None = None) -> None:
    taken = live_prompt_named(session, team_id, name)
    if taken is not None and taken.id != own:
        raise InvalidField("name", f"{name!r} is taken by a live prompt; edit that one to make a new version")


def _save(session: Session, row: LlmPrompt, author: int | None) -> None:
    """Write the prompt and, when its name or text is new, the version it is now (by `author`); a
    name another process just took (the unique index of live names) is `InvalidField`.

    No savepoint: on SQLite one opened before the transaction's first write would commit on release,
    and a dry run of `apply` must be able to roll everything back. A conflict fails the whole use case.
    """
    try:
        session.add(row)
        session.flush()
        if prompt_version(session, row.id, row.version) is None:
            version = LlmPromptVersion(
                prompt_id=row.id,
                version=row.version,
                name=row.name,
                prompt=row.prompt,
                created_by=author,
                created_at=row.updated_at,
            )
            session.add(version)
            session.flush()
    except IntegrityError as exc:
        raise InvalidField("name", f"{row.name!r} was just taken; choose another") from exc
