"""Scout configs: sync the canonical fleet, create (upsert) and change one, list them, apply custom
scouts as code, list runs, the run limits a team is held to, and all three at once for the web page.

The rules (names, settings, the enabled-scouts maximum, custom definitions) are `pipeline.scouts`;
each use case writes in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from uuid import UUID

from sqlmodel import Session

from models import ScoutConfig, ScoutOrigin, ScoutRun, as_utc
from models.scout_queries import config_named, enabled_count, recent_runs, runs_since, team_configs
from pipeline import scouts as rules
from pipeline.errors import InvalidField, NotFoundError
from services.context import Deps

MAX_RUNS_LISTED = 100


@dataclass(frozen=True)
class ScoutView:
    id: UUID
    skill_name: str
    description: str
    scout_origin: str
    enabled: bool
    emit: bool
    run_interval_minutes: int
    last_run_at: datetime | None
    created_at: datetime
    definition: dict[str, Any] | None = None


def view(row: ScoutConfig) -> ScoutView:
    return ScoutView(
        row.id,
        row.skill_name,
        row.description,
        str(row.scout_origin),
        row.enabled,
        row.emit,
        row.run_interval_minutes,
        as_utc(row.last_run_at),
        as_utc(row.created_at),
        row.definition,
    )


def configs(deps: Deps, team_id: int) -> list[ScoutView]:
    """The team's scout configs, by skill name."""
    with deps.read() as session:
        return [view(row) for row in team_configs(session, team_id)]


def sync(deps: Deps, team_id: int, *, now: datetime | None = None) -> list[ScoutView]:
    """Seed the canonical scouts the team lacks (enabled, emitting, hourly) and return the fleet.
    Idempotent: a config that exists is left as it is."""
    now = now or deps.now()
    with deps.transaction() as session:
        _seed(session, team_id, now)
        session.flush()
        return [view(row) for row in team_configs(session, team_id)]


def _seed(session: Session, team_id: int, now: datetime) -> None:
    room = rules.MAX_ENABLED_SCOUTS - enabled_count(session, team_id)
    for each in rules.CANONICAL:
        if config_named(session, team_id, each.name) is None:
            session.add(
                ScoutConfig(
                    team_id=team_id,
                    skill_name=each.name,
                    description=each.description,
                    enabled=room > 0,
                    created_at=now,
                    updated_at=now,
                )
            )
            room -= 1


def upsert(
    deps: Deps, team_id: int, data: dict[str, Any], *, user_id: int | None = None, now: datetime | None = None
) -> tuple[ScoutView, bool]:
    """Register the config of a scout (its fields applied when it exists); (config, created).

    The skill must exist on the project: a canonical scout, or a custom one `apply` wrote. Raises
    `InvalidField` for a name without the `signals-scout-` prefix, an unknown skill, a bad setting
    or enabling past the enabled-scouts maximum.
    """
    name = rules.check_skill_name(data.get("skill_name"))
    settings = rules.check_settings(data)
    now = now or deps.now()
    with deps.transaction() as session:
        found = config_named(session, team_id, name)
        created = found is None
        if found is None:
            canonical = next((each for each in rules.CANONICAL if each.name == name), None)
            if canonical is None:
                raise InvalidField("skill_name", f"no scout {name!r} on this project; see the configs list")
            found = ScoutConfig(
                team_id=team_id,
                skill_name=name,
                description=canonical.description,
                enabled=False,
                created_at=now,
            )
            settings = {"enabled": True, **settings}
        _change(session, found, settings, user_id, now)
        return view(found), created


def update(
    deps: Deps,
    team_id: int,
    config_id: UUID,
    changes: dict[str, Any],
    *,
    user_id: int | None = None,
    now: datetime | None = None,
) -> ScoutView:
    """Change a config's `enabled`, `emit` or `run_interval_minutes`; `skill_name` is fixed.
    Raises `NotFoundError` (another team's too) and `InvalidField`."""
    settings = rules.check_settings(changes)
    now = now or deps.now()
    with deps.transaction() as session:
        found = session.get(ScoutConfig, config_id)
        if found is None or found.team_id != team_id:
            raise NotFoundError("no such scout config in this project")
        _change(session, found, settings, user_id, now)
        return view(found)


def _change(
    session: Session, found: ScoutConfig, settings: dict[str, Any], user_id: int | None, now: datetime
) -> None:
    enabling = settings.get("enabled") is True and not found.enabled
    if enabling:
        rules.check_enabled_count(enabled_count(session, found.team_id) + 1)
        found.enabled_by = user_id
    for name, value in settings.items():
        setattr(found, name, value)
    found.updated_at = now
    session.add(found)
    session.flush()


def apply_scouts(
    session: Session, team_id: int, entries: list[dict[str, Any]], now: datetime
) -> list[tuple[str, str, tuple[str, ...]]]:
    """Custom scouts of an `apply` file: create or update each by name (the caller commits); (name,
    created|updated|unchanged, changed fields). All are checked first; `InvalidField` names the entry."""
    checked = [rules.check_custom(entry, f"scouts[{index}]") for index, entry in enumerate(entries)]
    applied: list[tuple[str, str, tuple[str, ...]]] = []
    for values in checked:
        found = config_named(session, team_id, values["skill_name"])
        if found is None:
            found = ScoutConfig(
                team_id=team_id,
                scout_origin=ScoutOrigin.CUSTOM,
                enabled=False,
                created_at=now,
                skill_name=values["skill_name"],
            )
            values = {"enabled": True, **values}
            action = "created"
        elif found.scout_origin != ScoutOrigin.CUSTOM:
            raise InvalidField("name", f"{found.skill_name!r} is a canonical scout; choose another name")
        else:
            action = "updated"
        changed = [name for name, value in values.items() if getattr(found, name) != value]
        if action == "updated" and not changed:
            applied.append((found.skill_name, "unchanged", ()))
            continue
        if "definition" in changed and action == "updated":
            found.version += 1
        settings = {name: values[name] for name in ("enabled",) if name in values}
        for name in ("description", "definition", "emit", "run_interval_minutes"):
            if name in values:
                setattr(found, name, values[name])
        _change(session, found, settings, None, now)
        applied.append((found.skill_name, action, tuple(changed)))
    return applied


def runs(deps: Deps, team_id: int, *, limit: int = MAX_RUNS_LISTED, **filters: Any) -> list[ScoutRun]:
    """The team's runs, newest first, at most 100 (`recent_runs` says the filters)."""
    with deps.read() as session:
        return list(recent_runs(session, team_id, limit=min(limit, MAX_RUNS_LISTED), **filters))


def limits(deps: Deps, team_id: int, *, now: datetime | None = None) -> rules.Limits:
    """The run limits the scheduler enforces for the team, and today's (UTC) runs against them."""
    now = now or deps.now()
    with deps.read() as session:
        return team_limits(session, team_id, now)


@dataclass(frozen=True)
class Overview:
    """A team's scouts at a glance: its configs, today's use of the limits, its newest runs."""

    configs: list[ScoutView]
    limits: rules.Limits
    runs: list[ScoutRun]


def overview(deps: Deps, team_id: int, *, runs_shown: int = 20, now: datetime | None = None) -> Overview:
    """The team's configs, limits and newest `runs_shown` runs (at most 100), read at one moment."""
    now = now or deps.now()
    with deps.read() as session:
        return Overview(
            [view(row) for row in team_configs(session, team_id)],
            team_limits(session, team_id, now),
            list(recent_runs(session, team_id, limit=min(runs_shown, MAX_RUNS_LISTED))),
        )


def team_limits(session: Session, team_id: int, now: datetime) -> rules.Limits:
    midnight = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    return rules.Limits(
        rules.MAX_RUNS_PER_TICK, rules.MAX_RUNS_PER_DAY, runs_since(session, team_id, midnight)
    )
